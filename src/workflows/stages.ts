/** How the workflow calls activities: per-stage retry policies, heartbeats, and a summary the UI shows. */
import type { RetryPolicy } from '@temporalio/common';
import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { SLOT_WAIT_MAX_MS } from '../constants.js';
import { NON_RETRYABLE_FAILURES } from '../failures.js';
import type { DependencyPlan, RunnerKind, SourceRef, StagePlan, StageResult } from '../types.js';

/** Heartbeat timeout of stage activities unless the input says otherwise: a dead worker shows in seconds. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

/** Margin on top of the stage's own timeout, which the runner enforces; this only catches a hung runner. */
export const RUNNER_MARGIN_MS = 60_000;

/** Where and how one command stage of a run executes. */
export interface StageActivityOptions {
  app: string;
  source: SourceRef;
  runner: RunnerKind;
  dependencies: DependencyPlan[];
  heartbeatTimeoutMs?: number;
  /** Another task queue for this stage (builds on their own workers); the workflow's queue by default. */
  taskQueue?: string;
  /** False (`run --no-cache`): never served from the stage result cache. */
  cache?: boolean;
}

/** Runs one command stage as an activity with the stage's own retry policy, in the run's checkout of the commit. */
export function runStageActivity(plan: StagePlan, options: StageActivityOptions): Promise<StageResult> {
  const { runStage } = proxyActivities<Activities>({
    summary: plan.name,
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
    // A heavy stage may first wait for a CPU slot on its worker (src/runners/slots.ts), up to SLOT_WAIT_MAX_MS.
    startToCloseTimeout: plan.timeoutMs + RUNNER_MARGIN_MS + (plan.load === 'light' ? 0 : SLOT_WAIT_MAX_MS),
    heartbeatTimeout: options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
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
  const { app, source, runner, dependencies, cache } = options;
  return runStage({ plan, app, source, runner, dependencies, ...(cache === false ? { cache } : {}) });
}

/**
 * Fetching and checking out the commit: a repository that cannot be read is retried a little (a
 * network blip), a commit that is not there is not (NON_RETRYABLE_FAILURES).
 */
export function sourceActivities(summary: string): Activities {
  return proxyActivities<Activities>({
    summary,
    startToCloseTimeout: '15 minutes', // the first fetch of a big repository
    heartbeatTimeout: '30 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '10 seconds',
      maximumAttempts: 3,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
    },
  });
}

/** Retries of environment work: a blip is retried a little, a real failure (NON_RETRYABLE_FAILURES) not at all. */
const ENVIRONMENT_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  maximumAttempts: 3,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
};

/** Environment activities (deploy, switch, smoke, sample), labelled for the UI's timeline. */
export function environmentActivities(summary: string): Activities {
  return proxyActivities<Activities>({
    summary,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '10 seconds',
    retry: ENVIRONMENT_RETRY,
  });
}

/** A load test: as long as it runs plus a margin, heartbeating; retried like any environment step. */
export function loadTestActivities(summary: string, durationMs: number): Activities {
  return proxyActivities<Activities>({
    summary,
    startToCloseTimeout: durationMs + 120_000,
    heartbeatTimeout: '10 seconds',
    retry: ENVIRONMENT_RETRY,
  });
}

/**
 * A canary step's probe generator: one attempt (it is best effort), cancelled when the step ends and
 * waited for, so no probe (no test-mode payment) outlives its step; its short heartbeat timeout is
 * what makes the cancel reach it within a few seconds (heartbeats are throttled to 80 % of it).
 */
export function probeActivities(summary: string, durationMs: number): Activities {
  return proxyActivities<Activities>({
    summary,
    startToCloseTimeout: durationMs + 60_000,
    heartbeatTimeout: '3 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
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

/** Approval checks as local activities: they run on the worker holding the approvers' public keys, in milliseconds. */
export function approvalActivities(): Activities {
  return proxyLocalActivities<Activities>({
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '200 ms', maximumAttempts: 3 },
  });
}

/** The image smoke test: a Dagger session on the worker that holds the build's OCI tarball (the build's queue). */
export function imageSmokeActivities(taskQueue?: string): Activities {
  return proxyActivities<Activities>({
    summary: 'smoke-test-staging: image in Dagger',
    ...(taskQueue ? { taskQueue } : {}),
    startToCloseTimeout: '10 minutes', // the first image pull and the service's start
    heartbeatTimeout: '10 seconds',
    retry: ENVIRONMENT_RETRY,
  });
}
