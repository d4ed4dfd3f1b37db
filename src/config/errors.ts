/** The error raised for an invalid config; the CLI prints it and exits with code 2. */
import { maskSecretLike } from '../mask.js';

/** One problem in the config: where, what it got, what to do. */
export interface ConfigProblem {
  path: string;
  message: string;
  received?: string;
}

/** An invalid config file. Nothing is started when one is thrown. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${file} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was started:\n` +
        problems
          .map((p) =>
            // Masked: a key pasted where its name belongs must not reach the CI log in full.
            maskSecretLike(
              `  - ${p.path || '(top level)'}: ${p.message}${p.received === undefined ? '' : ` (got ${p.received})`}`,
            ),
          )
          .join('\n'),
    );
  }
}
