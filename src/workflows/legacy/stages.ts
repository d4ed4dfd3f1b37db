/** How the schema 1 workflows call activities: the presets of ../stages.ts, and the stage activity of schema 1. */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { NON_RETRYABLE_FAILURES } from '../../failures.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, RUNNER_MARGIN_MS } from '../stages.js';
import type { RunnerKind, StageResult } from '../../types.js';
import type { StagePlan } from './types.js';

export {
  approvalActivities,
  compensationActivities,
  environmentActivities,
  imageSmokeActivities,
} from '../stages.js';

/** Runs one command stage of a schema 1 run (in the source folder on the worker's disk). */
export function runStageActivity(
  plan: StagePlan,
  sourceDir: string,
  runner: RunnerKind,
  heartbeatTimeoutMs = DEFAULT_HEARTBEAT_TIMEOUT_MS,
  taskQueue?: string,
): Promise<StageResult> {
  const { runStage } = proxyActivities<Activities>({
    summary: plan.name,
    ...(taskQueue ? { taskQueue } : {}),
    startToCloseTimeout: plan.timeoutMs + RUNNER_MARGIN_MS,
    heartbeatTimeout: heartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: plan.retry.initialIntervalMs,
      backoffCoefficient: plan.retry.backoffCoefficient,
      maximumInterval: plan.retry.maximumIntervalMs,
      maximumAttempts: plan.retry.maximumAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
    },
  });
  return runStage({ plan, sourceDir, runner });
}
