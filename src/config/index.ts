/** The config module: defineTollgate() for config files; loadConfig() for the client. */
export { defineTollgate } from './define.js';
export { ConfigError } from './errors.js';
export { loadConfig, resolveConfig, DEFAULT_CONFIG_FILE, type ResolvedConfig } from './load.js';
export type { TollgateConfig, TollgateConfigInput } from './schema.js';
