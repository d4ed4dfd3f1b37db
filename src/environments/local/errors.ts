/** The error the local driver throws; activities turn it into an ApplicationFailure of its type. */
import { FailureType } from '../../failures.js';

/** The failure types an environment operation may end with. */
export type EnvironmentErrorType =
  | typeof FailureType.EnvironmentFailed
  | typeof FailureType.EngineUnavailable
  | typeof FailureType.ImageNotFound
  | typeof FailureType.InvalidConfig;

/** A local-environment operation that failed, with the release and its log tail when there is one. */
export class LocalEnvironmentError extends Error {
  override readonly name = 'LocalEnvironmentError';
  /** EnvironmentFailed (retryable), or a type no retry can mend (ImageNotFound, InvalidConfig). */
  readonly type: EnvironmentErrorType;
  constructor(
    message: string,
    readonly releaseId?: string,
    readonly logTail?: string,
    type: EnvironmentErrorType = FailureType.EnvironmentFailed,
  ) {
    super(message);
    this.type = type;
  }
}
