/**
 * The release pipeline: health, tests, revenue gates (in parallel), build, then delivery.
 * Every step with an undo registers it on the saga; any failure or cancellation unwinds it.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { REVENUE_GATES, type StageName } from '../constants.js';
import { FailureType } from '../failures.js';
import type {
  ReleaseInput,
  ReleasePhase,
  ReleaseResult,
  ReleaseStatus,
  StageFailureDetails,
  StagePlan,
  StageResult,
} from '../types.js';
import { statusQuery } from './messages.js';
import { Saga } from './saga.js';
import { compensations, runStageActivity } from './stages.js';

/** Takes one release of an app through the gates; fails with the stage and failure type in its message. */
export async function releasePipeline(input: ReleaseInput): Promise<ReleaseResult> {
  validateInput(input);
  const status: ReleaseStatus = {
    app: input.app,
    ref: input.ref,
    phase: 'starting',
    stages: {},
    compensations: [],
  };
  for (const plan of input.stages) status.stages[plan.name] = { state: 'pending', attempts: 0 };
  setHandler(statusQuery, () => status);

  const saga = new Saga();
  const plan = (name: StageName): StagePlan | undefined => input.stages.find((s) => s.name === name);
  const reachedUntil = (name: StageName): boolean => input.until === name;

  const stage = async (name: StageName): Promise<StageResult | undefined> => {
    const p = plan(name);
    if (!p) return undefined;
    const entry = status.stages[name]!;
    Object.assign(entry, { state: 'running', startedAt: new Date().toISOString() });
    try {
      const result = await runStageActivity(p, input.sourceDir, input.runner, input.heartbeatTimeoutMs);
      Object.assign(entry, {
        state: 'succeeded',
        attempts: result.attempt,
        endedAt: new Date().toISOString(),
        summary: result.summary,
      });
      return result;
    } catch (error) {
      const details = failureDetails(error);
      Object.assign(entry, {
        state: isCancellation(error) ? 'skipped' : 'failed',
        attempts: details?.attempt ?? entry.attempts,
        endedAt: new Date().toISOString(),
        summary: failureMessage(error),
        failureType: details?.type ?? failureType(error),
      });
      throw error;
    }
  };
  const phase = (next: ReleasePhase): void => {
    status.phase = next;
    log.info('release phase', { phase: next });
  };

  try {
    phase('checks');
    await stage('quick-health-check');
    if (!reachedUntil('quick-health-check')) await stage('test-suite');

    if (!input.until || !['quick-health-check', 'test-suite'].includes(input.until)) {
      phase('revenue-gates');
      await allOrCancel(REVENUE_GATES.map((name) => () => stage(name)));
    }

    if (!input.until || input.until === 'build-production-image') {
      phase('build');
      const build = await stage('build-production-image');
      if (build?.artifact) {
        const artifact = build.artifact;
        status.artifact = artifact;
        saga.push('discard artifact', () => compensations.discardArtifact(artifact));
      }
    }

    skipPending(status);
    phase('succeeded');
    return { outcome: 'succeeded', status };
  } catch (error) {
    phase('compensating');
    status.compensations = await saga.compensate();
    skipPending(status);
    if (isCancellation(error)) {
      phase('cancelled');
      throw error;
    }
    phase('failed');
    status.failure = describeFailure(error, status);
    throw ApplicationFailure.create({
      type: failureType(error) ?? FailureType.StepFailed,
      message: status.failure,
      nonRetryable: true,
      details: [status],
    });
  }
}

/**
 * Runs tasks at once; the first failure cancels the others (their processes are stopped)
 * and is rethrown once all have settled, so compensation never races a running stage.
 */
async function allOrCancel(tasks: (() => Promise<unknown>)[]): Promise<void> {
  await CancellationScope.cancellable(async () => {
    const scope = CancellationScope.current();
    let first: unknown;
    await Promise.allSettled(
      tasks.map((task) =>
        task().catch((error: unknown) => {
          if (first === undefined && !isCancellation(error)) {
            first = error;
            scope.cancel();
          }
          throw error;
        }),
      ),
    );
    if (first !== undefined) throw first as Error;
  });
}

function skipPending(status: ReleaseStatus): void {
  for (const s of Object.values(status.stages)) if (s.state === 'pending') s.state = 'skipped';
}

function validateInput(input: ReleaseInput): void {
  const problems: string[] = [];
  if (!input.app) problems.push('app is empty');
  if (!input.ref) problems.push('ref is empty');
  if (!input.sourceDir) problems.push('sourceDir is empty');
  const names = input.stages.map((s) => s.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) problems.push(`stage ${duplicate} appears twice`);
  for (const s of input.stages) if (s.steps.length === 0) problems.push(`stage ${s.name} has no steps`);
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message: `invalid release input (${problems.join('; ')}): start runs with \`tollgate run\`, which validates the config`,
      nonRetryable: true,
    });
  }
  log.info('release starting', { app: input.app, ref: input.ref, workflowId: workflowInfo().workflowId });
}

function failureDetails(error: unknown): StageFailureDetails | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && Array.isArray(cause.details)) {
    return cause.details[0] as StageFailureDetails | undefined;
  }
  return undefined;
}

function failureType(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
  return cause instanceof Error ? cause.message : String(error);
}

function describeFailure(error: unknown, status: ReleaseStatus): string {
  const failed = Object.entries(status.stages).find(([, s]) => s.state === 'failed');
  const where = failed ? `stage ${failed[0]} failed` : 'release failed';
  const type = failureType(error);
  const undone = status.compensations.filter((c) => !c.ok);
  const compensation =
    status.compensations.length === 0
      ? ''
      : undone.length === 0
        ? `; rolled back: ${status.compensations.map((c) => c.name).join(', ')}`
        : `; COMPENSATION FAILED: ${undone.map((c) => `${c.name} (${c.error ?? 'unknown error'})`).join(', ')}`;
  return `${where}${type ? ` [${type}]` : ''}: ${failureMessage(error)}${compensation}`;
}
