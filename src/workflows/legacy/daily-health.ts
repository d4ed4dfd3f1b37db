/**
 * The daily health workflow (started by the schedule, or `tollgate health`): the app's
 * quick-health-check stage, each environment's health and readiness, the Stripe key, and the
 * freshness of revenue tracking. Every check runs; a failed one never stops the others. When
 * something failed, a notification goes out (workflows/notify.ts); the report is the result either way.
 *
 * FROZEN (schema 1): runs started by Tollgate 0.1 clients, and every history they recorded, replay
 * on this code, so its commands must never change; see ./README.md. New work goes to ../release/.
 */
import { ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { FailureType } from '../../failures.js';
import type { DailyHealthInput, DailyHealthReport, HealthCheck } from './types.js';
import { recordHealthReport } from '../metrics.js';
import { notifyInBackground } from '../notify.js';
import { runStageActivity } from './stages.js';

/** Check activities answer in seconds and report failed checks as results: a retry is for a blip only. */
function checkActivities(summary: string): Activities {
  return proxyActivities<Activities>({
    summary,
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
  });
}

/** Checks the app's health signals once and reports; notifies when a check failed. */
export async function dailyHealthCheckV1(input: DailyHealthInput): Promise<DailyHealthReport> {
  validateInput(input);
  const startedAt = new Date().toISOString();
  // Revenue is counted where customers pay: production, or the last environment configured.
  const revenuePlan = input.environments.find((e) => e.name === 'production') ?? input.environments.at(-1);
  const revenueEnv = revenuePlan && { ...revenuePlan, app: input.app };

  const groups: Promise<HealthCheck[]>[] = [];
  const stage = input.healthStage;
  if (stage) {
    groups.push(
      runStageActivity(stage, input.sourceDir, input.runner).then(
        (result): HealthCheck[] => [{ name: stage.name, ok: true, detail: result.summary }],
        (error: unknown): HealthCheck[] => [{ name: stage.name, ok: false, detail: messageOf(error) }],
      ),
    );
  }
  for (const plan of input.environments) {
    // Environments are kept per app now; the activities read the app from the plan.
    const environment = { ...plan, app: input.app };
    groups.push(
      guarded([`${environment.name} health`, `${environment.name} readiness`], () =>
        checkActivities(`check ${environment.name}`).checkEnvironment({ environment }),
      ),
    );
  }
  groups.push(
    guarded(['stripe key'], async () => [
      await checkActivities('check stripe key').checkStripeKey({ secret: input.stripeKeySecret }),
    ]),
  );
  if (revenueEnv) {
    groups.push(
      guarded(['revenue freshness'], async () => [
        await checkActivities(`check revenue in ${revenueEnv.name}`).checkRevenueFreshness({
          environment: revenueEnv,
          path: input.revenue.path,
          maxAgeMs: input.revenue.maxAgeMs,
        }),
      ]),
    );
  }

  const checks = (await Promise.all(groups)).flat();
  const failed = checks.filter((c) => !c.ok);
  const report: DailyHealthReport = {
    app: input.app,
    checks,
    ok: failed.length === 0,
    startedAt,
    endedAt: new Date().toISOString(),
  };
  recordHealthReport(report);
  log.info('daily health checked', { app: input.app, ok: report.ok, failed: failed.map((c) => c.name) });
  if (!report.ok) {
    const text = `${input.app}: ${failed.length} of ${checks.length} health checks failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`;
    // Never throws: an undeliverable notification does not change the report.
    await notifyInBackground(input.notifications, {
      kind: 'daily-health-failed',
      app: input.app,
      text,
      report,
    });
  }
  return report;
}

/** Runs a check activity; if the activity itself fails, its checks are reported failed with the reason. */
async function guarded(names: string[], fn: () => Promise<HealthCheck[]>): Promise<HealthCheck[]> {
  try {
    return await fn();
  } catch (error) {
    const detail = `the check could not run: ${messageOf(error)}`;
    return names.map((name) => ({ name, ok: false, detail }));
  }
}

/** The innermost message of a failure (an ActivityFailure wraps the activity's own error). */
function messageOf(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function validateInput(input: DailyHealthInput): void {
  const problems: string[] = [];
  if (!input.app) problems.push('app is empty');
  if (!input.stripeKeySecret) problems.push('stripeKeySecret is empty');
  if (!(input.revenue?.maxAgeMs > 0)) problems.push('revenue.maxAgeMs must be positive');
  if (!input.revenue?.path?.startsWith('/')) problems.push('revenue.path must start with /');
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message: `invalid daily health input: ${problems.join('; ')}`,
      nonRetryable: true,
    });
  }
}
