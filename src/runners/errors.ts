/** The error a runner throws when a stage fails; activities turn it into an ApplicationFailure. */

import type { FailureType } from '../failures.js';

/** A stage attempt that failed, with the facts the workflow and the CLI show. */
export class StageError extends Error {
  override readonly name = 'StageError';
  constructor(
    readonly type: FailureType,
    message: string,
    readonly stage: string,
    readonly exitCode: number | null,
    readonly logTail: string,
    readonly logPath: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
