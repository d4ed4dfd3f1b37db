/** The runStage activity: one attempt of one command stage, in the run's checkout, on the runner the worker chose. */
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { Context, log } from '@temporalio/activity';
import { recordStageDuration, type StageOutcome } from '../observability/metrics.js';
import { StageError } from '../runners/errors.js';
import { StageCancelledError } from '../runners/host.js';
import { saveDependencies } from '../source/dependencies.js';
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
}

/** Arguments of runStage: a stage of a run, on the run's checkout of its commit. */
export interface RunStageInput {
  plan: StagePlan;
  app: string;
  source: SourceRef;
  runner: RunnerKind;
  dependencies: DependencyPlan[];
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
      try {
        const workspace = 'source' in input ? await ensureWorkspace(deps, input) : undefined;
        const chosen = await deps.runnerFor(runner);
        log.info('stage starting', { stage: plan.name, attempt, runner: chosen.kind });
        const result = await chosen.runStage(plan, {
          runId: ctx.info.workflowExecution?.workflowId ?? `activity-${ctx.info.activityId}`,
          attempt,
          sourceDir: workspace?.appDir ?? (input as RunStageInputV1).sourceDir,
          runDir: runDirOf(deps.home, ctx, workspace !== undefined),
          secrets,
          signal: ctx.cancellationSignal,
          onProgress: (line) => (latest = line.slice(0, 200)),
        });
        log.info('stage passed', { stage: plan.name, attempt, durationMs: result.durationMs });
        outcome = 'succeeded';
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
        clearInterval(interval);
        const labels = { app: app ?? schema1App(ctx), stage: plan.name, outcome };
        recordStageDuration(ctx.metricMeter, labels, (performance.now() - started) / 1000);
      }
    },
  };
}

/** A schema 1 stage names no app: its lane's workflow ID (`release-<app>`) does. */
function schema1App(ctx: Context): string {
  return /^release-(.+)$/.exec(ctx.info.workflowExecution?.workflowId ?? '')?.[1] ?? 'unknown';
}
