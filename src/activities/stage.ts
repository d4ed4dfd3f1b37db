/** The runStage activity: one attempt of one command stage, on the runner the worker chose. */
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { Context, log } from '@temporalio/activity';
import { recordStageDuration, type StageOutcome } from '../observability/metrics.js';
import { StageError } from '../runners/errors.js';
import { StageCancelledError } from '../runners/host.js';
import type { Runner } from '../runners/types.js';
import type { RunnerKind, StagePlan, StageResult } from '../types.js';
import { stageFailure } from './failure.js';
import { guardTestStage, resolveSecrets } from './secrets.js';

/** What the stage activity needs from the worker. */
export interface StageDeps {
  /** Tollgate's state directory (runs/<workflowId>/ holds logs and artifacts). */
  home: string;
  /** Returns the runner for the requested kind ('auto' resolved by the worker's detection). */
  runnerFor: (kind: RunnerKind) => Promise<Runner>;
  /** Where secret values come from; the worker's environment by default. */
  secretSource: NodeJS.ProcessEnv;
  /** Told each stage's resolved secret values, so the worker's logs redact them too. */
  onSecrets?: (values: Record<string, string>) => void;
}

/** Arguments of runStage. */
export interface RunStageInput {
  plan: StagePlan;
  sourceDir: string;
  runner: RunnerKind;
}

/** Builds the runStage activity. */
export function createStageActivities(deps: StageDeps) {
  return {
    /** Runs one attempt of a command stage; heartbeats its latest output line. */
    async runStage({ plan, sourceDir, runner }: RunStageInput): Promise<StageResult> {
      const ctx = Context.current();
      const { attempt, heartbeatTimeoutMs } = ctx.info;
      const runId = ctx.info.workflowExecution?.workflowId ?? `activity-${ctx.info.activityId}`;
      const secrets = resolveSecrets(plan.secrets, deps.secretSource, plan.name);
      deps.onSecrets?.(secrets);
      const stepEnv = plan.steps.reduce<Record<string, string>>((all, step) => ({ ...all, ...step.env }), {});
      guardTestStage(plan.name, { ...plan.env, ...stepEnv, ...secrets });

      let latest = '';
      const beat = (): void => ctx.heartbeat({ stage: plan.name, attempt, latest });
      // Quiet steps (a long compile) still need heartbeats, or the server thinks the worker died.
      const interval = setInterval(beat, Math.max(200, Math.min(1000, (heartbeatTimeoutMs ?? 30_000) / 3)));
      const started = performance.now();
      let outcome: StageOutcome = 'failed';
      try {
        const chosen = await deps.runnerFor(runner);
        log.info('stage starting', { stage: plan.name, attempt, runner: chosen.kind });
        const result = await chosen.runStage(plan, {
          runId,
          attempt,
          sourceDir,
          runDir: join(deps.home, 'runs', runId),
          secrets,
          signal: ctx.cancellationSignal,
          onProgress: (line) => (latest = line.slice(0, 200)),
        });
        log.info('stage passed', { stage: plan.name, attempt, durationMs: result.durationMs });
        outcome = 'succeeded';
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
        recordStageDuration(ctx.metricMeter, plan.name, outcome, (performance.now() - started) / 1000);
      }
    },
  };
}
