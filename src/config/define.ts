/** `defineTollgate()`: typed help for writing tollgate.config.ts; validation happens when it is loaded. */
import type { TollgateConfigInput } from './schema.js';

/** Declares a Tollgate pipeline. Returns the config unchanged; the loader validates it. */
export function defineTollgate(config: TollgateConfigInput): TollgateConfigInput {
  return config;
}

export type { TollgateConfigInput };
