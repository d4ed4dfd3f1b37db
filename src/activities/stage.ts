/** The runStage activity: one attempt of one command stage, in the run's checkout, on the runner the worker chose. */
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { SLOT_WAIT_MAX_MS } from '../constants.js';
import { FailureType } from '../failures.js';
import { Context, log } from '@temporalio/activity';
import { recordStageDuration, type StageOutcome } from '../observability/metrics.js';
import { StageError } from '../runners/errors.js';
import { StageCancelledError } from '../runners/host.js';
import type { StageSlots } from '../runners/slots.js';
import { stageCacheKey, type StageCache } from '../runners/stage-cache.js';
import { importDependencies, saveDependencies } from '../source/dependencies.js';
import type { DependencyPlan, RunnerKind, SourceRef, StagePlan, StageResult } from '../types.js';
import type { StagePlan as StagePlanV1 } from '../workflows/legacy/types.js';
import { stageFailure } from './failure.js';
import { guardCommandStage, resolveSecrets } from './secrets.js';
import { ensureWorkspace, type SourceDeps } from './source.js';

/** What the stage activity needs from the worker. */
export interface StageDeps extends SourceDeps {
  /** Where secret values come from; the worker's environment by default. */
  secretSource: NodeJS.ProcessEnv;
  /** Told each stage's resolved secret values, so the worker's logs redact them too. */
  onSecrets?: (values: Record<string, string>) => void;
  /** Passed results reused by later runs with the same key; without one, every stage runs. */
  stageCache?: StageCache;
  /** CPU slots heavy stages share on this worker; without them, stages start at once. */
  stageSlots?: StageSlots;
}

/** Arguments of runStage: a stage of a run, on the run's checkout of its commit. */
export interface RunStageInput {
  plan: StagePlan;
  app: string;
  source: SourceRef;
  runner: RunnerKind;
  dependencies: DependencyPlan[];
  /** False (`run --no-cache`): the stage runs even when the stage result cache has its result. */
  cache?: boolean;
}

/** Arguments of runStage from a schema 1 run: the stage runs in a folder on the worker's disk. */
export interface RunStageInputV1 {
  plan: StagePlanV1;
  sourceDir: string;
  runner: RunnerKind;
}

/** Where the run keeps its logs and artifacts: `runs/<workflow>/<run>` (schema 1 runs: `runs/<workflow>`). */
export function runDirOf(home: string, ctx: Context, perRun: boolean): string {
  const run = ctx.info.workflowExecution;
  if (!run) return join(home, 'runs', `activity-${ctx.info.activityId}`);
  return perRun ? join(home, 'runs', run.workflowId, run.runId) : join(home, 'runs', run.workflowId);
}

/** Builds the runStage activity. */
export function createStageActivities(deps: StageDeps) {
  return {
    /** Runs one attempt of a command stage; heartbeats its latest output line. */
    async runStage(input: RunStageInput | RunStageInputV1): Promise<StageResult> {
      const ctx = Context.current();
      const { attempt, heartbeatTimeoutMs } = ctx.info;
      const { plan, runner } = input;
      const app = 'app' in input ? input.app : undefined;
      const secrets = resolveSecrets(plan.secrets, deps.secretSource, plan.name);
      deps.onSecrets?.(secrets);
      const stepEnv = plan.steps.reduce<Record<string, string>>((all, step) => ({ ...all, ...step.env }), {});
      guardCommandStage(plan.name, { ...plan.env, ...stepEnv, ...secrets });

      let latest = '';
      const beat = (): void => ctx.heartbeat({ stage: plan.name, attempt, latest });
      // Quiet steps (a long compile, a fetch) still need heartbeats, or the server thinks the worker died.
      const interval = setInterval(beat, Math.max(200, Math.min(1000, (heartbeatTimeoutMs ?? 30_000) / 3)));
      const started = performance.now();
      let outcome: StageOutcome = 'failed';
      let release: (() => void) | undefined;
      try {
        const workspace = 'source' in input ? await ensureWorkspace(deps, input) : undefined;
        const chosen = await deps.runnerFor(runner);
        const cache =
          workspace && 'source' in input && input.cache !== false && plan.cacheResult === true
            ? deps.stageCache
            : undefined;
        let key: string | undefined;
        const runDir = runDirOf(deps.home, ctx, workspace !== undefined);
        // CPU slots are the host's: a Dagger engine schedules its own work (and may be elsewhere).
        const slots = chosen.kind === 'host' ? deps.stageSlots : undefined;
        const say = (line: string): void => void (latest = line);
        // What a stage that runs needs first, on the host: the stored dependencies, a CPU slot.
        const ready = async (): Promise<void> => {
          if (workspace && 'dependencies' in input && chosen.kind === 'host') {
            const imported = await importDependencies(
              deps.cacheDir,
              input.app,
              workspace,
              input.dependencies,
            );
            if (imported.length > 0)
              log.info('dependencies restored from the store', { stage: plan.name, imported });
          }
          release = await takeSlot(slots, plan, ctx, say);
        };
        const reuse = cache
          ? async (identity: Record<string, string>) => {
              key = stageCacheKey({ plan, tree: workspace!.tree, runner: chosen.kind, identity });
              // A cache that cannot answer (a blob pruned under a lookup, a full disk) is a miss.
              const hit = await cache.lookup(key, runDir).catch((error: unknown) => {
                log.warn('the stage result cache could not answer: running the stage', {
                  stage: plan.name,
                  error: String(error),
                });
                return undefined;
              });
              if (!hit) await ready(); // a hit runs nothing
              return hit;
            }
          : undefined;
        if (!reuse) await ready();
        log.info('stage starting', { stage: plan.name, attempt, runner: chosen.kind });
        const result = await chosen.runStage(plan, {
          runId: ctx.info.workflowExecution?.workflowId ?? `activity-${ctx.info.activityId}`,
          attempt,
          sourceDir: workspace?.appDir ?? (input as RunStageInputV1).sourceDir,
          ...(workspace ? { commit: (input as RunStageInput).source.commit } : {}),
          runDir,
          secrets,
          signal: ctx.cancellationSignal,
          onProgress: (line) => (latest = line.slice(0, 200)),
          ...(reuse ? { reuse } : {}),
        });
        outcome = 'succeeded';
        if (result.cached) {
          log.info('stage served from the stage result cache', {
            stage: plan.name,
            attempt,
            from: `${result.cached.workflowId}/${result.cached.runId}`,
          });
          return result;
        }
        log.info('stage passed', { stage: plan.name, attempt, durationMs: result.durationMs });
        const run = ctx.info.workflowExecution;
        if (cache && key && run) {
          await cache
            .store(key, result, { workflowId: run.workflowId, runId: run.runId })
            .catch((error: unknown) => {
              log.warn('the stage result cache could not store the result', {
                stage: plan.name,
                error: String(error),
              });
            });
        }
        if (workspace && 'dependencies' in input && chosen.kind === 'host') {
          const saved = await saveDependencies(deps.cacheDir, input.app, workspace, input.dependencies);
          if (saved.length > 0)
            log.info('dependencies stored for later checkouts', { stage: plan.name, saved });
        }
        return result;
      } catch (error) {
        if (error instanceof StageCancelledError || ctx.cancellationSignal.aborted) {
          outcome = 'cancelled';
          throw new CancelledFailure(`${plan.name} cancelled; its processes were stopped`);
        }
        if (error instanceof StageError) {
          log.warn('stage failed', { stage: plan.name, attempt, type: error.type, exitCode: error.exitCode });
          throw stageFailure(error, attempt);
        }
        throw error;
      } finally {
        release?.();
        clearInterval(interval);
        const labels = { app: app ?? schema1App(ctx), stage: plan.name, outcome };
        recordStageDuration(ctx.metricMeter, labels, (performance.now() - started) / 1000);
      }
    },
  };
}

/**
 * Waits for a CPU slot when the stage is heavy (every stage not marked `load: 'light'`), saying so
 * in the heartbeat; returns the release, or undefined when the stage takes no slot.
 */
async function takeSlot(
  slots: StageSlots | undefined,
  plan: StagePlan | StagePlanV1,
  ctx: Context,
  say: (line: string) => void,
): Promise<(() => void) | undefined> {
  if (!slots || ('load' in plan && plan.load === 'light')) return undefined;
  if (slots.inUse >= slots.size) {
    say(
      `[tollgate] waiting for a stage slot: ${slots.inUse} heavy stage(s) run on this worker (TOLLGATE_STAGE_SLOTS=${slots.size})`,
    );
    log.info('stage waiting for a slot', { stage: plan.name, slots: slots.size, queued: slots.queued + 1 });
  }
  const gaveUp = AbortSignal.timeout(SLOT_WAIT_MAX_MS);
  try {
    return await slots.acquire(AbortSignal.any([ctx.cancellationSignal, gaveUp]));
  } catch (error) {
    if (!gaveUp.aborted || ctx.cancellationSignal.aborted) throw error;
    // Retryable: the next attempt may find a worker with a free slot.
    throw ApplicationFailure.retryable(
      `${plan.name} waited ${SLOT_WAIT_MAX_MS / 60_000} min for a stage slot on this worker (TOLLGATE_STAGE_SLOTS=${slots.size}); add workers or slots`,
      FailureType.StageTimeout,
    );
  }
}

/** A schema 1 stage names no app: its lane's workflow ID (`release-<app>`) does. */
function schema1App(ctx: Context): string {
  return /^release-(.+)$/.exec(ctx.info.workflowExecution?.workflowId ?? '')?.[1] ?? 'unknown';
}
