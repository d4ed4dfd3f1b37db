/** How the workflow calls activities: per-stage retry policies, heartbeats, and a summary the UI shows. */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NON_RETRYABLE_FAILURES } from '../failures.js';
import type { RunnerKind, StagePlan, StageResult } from '../types.js';

/** Heartbeat timeout of stage activities unless the input says otherwise: a dead worker shows in seconds. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

// Margin on top of the stage's own timeout, which the runner enforces; this only catches a hung runner.
const RUNNER_MARGIN_MS = 60_000;

/** Runs one command stage as an activity with the stage's own retry policy. */
export function runStageActivity(
  plan: StagePlan,
  sourceDir: string,
  runner: RunnerKind,
  heartbeatTimeoutMs = DEFAULT_HEARTBEAT_TIMEOUT_MS,
): Promise<StageResult> {
  const { runStage } = proxyActivities<Activities>({
    summary: plan.name,
    startToCloseTimeout: plan.timeoutMs + RUNNER_MARGIN_MS,
    heartbeatTimeout: heartbeatTimeoutMs,
    // Wait for the runner to stop its processes before the workflow moves on to compensation.
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

/** Environment activities (deploy, switch, smoke, sample), labelled for the UI's timeline. */
export function environmentActivities(summary: string): Activities {
  return proxyActivities<Activities>({
    summary,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '10 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '10 seconds',
      maximumAttempts: 3,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
    },
  });
}

/** Compensations get their own generous retries: an undo must not give up on a blip. */
export function compensationActivities(summary: string): Activities {
  return proxyActivities<Activities>({
    summary,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '10 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 10,
    },
  });
}
