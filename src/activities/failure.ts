/** Turns runner errors into ApplicationFailures with the declared types. */
import { ApplicationFailure } from '@temporalio/activity';
import { NON_RETRYABLE_FAILURES, type FailureType } from '../failures.js';
import type { StageError } from '../runners/errors.js';
import type { StageFailureDetails } from '../types.js';

/** An ApplicationFailure of a declared type; non-retryable exactly when the type says so. */
export function failure(
  type: FailureType,
  message: string,
  details?: StageFailureDetails,
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: NON_RETRYABLE_FAILURES.includes(type),
    ...(details ? { details: [details] } : {}),
  });
}

/** Converts a StageError (with its log tail and exit code) into the failure the workflow sees. */
export function stageFailure(error: StageError, attempt: number): ApplicationFailure {
  return failure(error.type, `${error.stage}: ${error.message}`, {
    stage: error.stage,
    attempt,
    exitCode: error.exitCode,
    logTail: error.logTail,
    logPath: error.logPath,
    type: error.type,
  });
}
