/** The error the local driver throws; activities turn it into an ApplicationFailure of its type. */
import { FailureType } from '../../failures.js';

/** A local-environment operation that failed, with the release and its log tail when there is one. */
export class LocalEnvironmentError extends Error {
  override readonly name = 'LocalEnvironmentError';
  readonly type = FailureType.EnvironmentFailed;
  constructor(
    message: string,
    readonly releaseId?: string,
    readonly logTail?: string,
  ) {
    super(message);
  }
}
