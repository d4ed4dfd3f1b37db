/** Why a release's source could not be resolved (client) or fetched and checked out (worker). */

/** What went wrong, for the CLI's exit code and the activity's failure type. */
export type SourceProblem =
  /** The revision names no commit where the client looked. */
  | 'unknown-revision'
  /** The working tree has uncommitted changes and `--allow-dirty` was not given. */
  | 'dirty'
  /** The config's `repository`/`source` do not describe a git repository the client can use. */
  | 'not-a-repository'
  /** `--allow-dirty` with something it cannot combine with. */
  | 'bad-request'
  /** The worker could not read the repository at all (a path that is not there, no network, no credentials). */
  | 'unreachable'
  /** The worker read the repository, but the commit is not in it (never pushed). */
  | 'commit-not-found'
  /** What the worker checked out does not hash to the commit's tree. */
  | 'checkout-mismatch';

/** A source problem with a message that says where Tollgate looked and what to do. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    readonly problem: SourceProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
