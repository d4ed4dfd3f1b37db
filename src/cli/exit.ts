/** Exit codes of the `tollgate` command, and the error that carries one to the top-level handler. */

/** Every exit code the CLI uses; documented in `tollgate --help` and the README. */
export const ExitCode = {
  /** The release (or command) succeeded. */
  Ok: 0,
  /** The release failed a gate and was rolled back. */
  Failed: 1,
  /** Bad input: an invalid config, an unknown stage, a wrong argument. Nothing was started. */
  BadInput: 2,
  /** The Temporal server could not be reached. */
  Unreachable: 3,
  /** The release was cancelled, terminated or timed out. */
  Cancelled: 4,
  /** The app's release lane is held by another run (use --queue to wait for it). */
  LaneBusy: 5,
} as const;

/** One of the exit codes. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the top-level handler prints as one message and exits with `code`. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** The exit-code table for help texts. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success (--until-gate: the run waits at a gate; a repeated promote of a promoted release)
  1  the release failed a gate (compensations ran) or was rolled back; doctor: a check failed
  2  bad input: invalid config or arguments, a refused decision; nothing was started
  3  the Temporal server could not be reached
  4  the release was cancelled, terminated or timed out
  5  another release of the app is in flight (run with --queue to wait your turn)`;
