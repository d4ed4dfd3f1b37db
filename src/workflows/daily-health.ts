/**
 * The daily health workflow (started by the schedule, or `tollgate health`): the config's health
 * stage on the commit the last environment serves, each environment's health and readiness, and,
 * where the config declares revenue protection, the Stripe key and the freshness of revenue
 * tracking. Every check runs; a failed one never stops the others; a check that does not apply
 * says why. When something failed, a notification goes out; the report is the result either way.
 */
import { ApplicationFailure, CancellationScope, log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { FailureType, messageOf } from '../failures.js';
import type { DailyHealthInput, DailyHealthReport, HealthCheck } from '../types.js';
import { dailyHealthCheckV1 } from './legacy/daily-health.js';
import type { DailyHealthInput as DailyHealthInputV1 } from './legacy/types.js';
import { recordHealthReport } from './metrics.js';
import { notifyInBackground } from './notify.js';
import { isSchema2, SCHEMA_1_REFUSED } from './schema.js';
import { runStageActivity, sourceActivities } from './stages.js';

/** Check activities answer in seconds and report failed checks as results: a retry is for a blip only. */
function checkActivities(summary: string): Activities {
  return proxyActivities<Activities>({
    summary,
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
  });
}

/** Checks the app's health signals once and reports; notifies when a check failed. */
export async function dailyHealthCheck(
  input: DailyHealthInput | DailyHealthInputV1,
): Promise<DailyHealthReport> {
  if (!isSchema2(input)) {
    // Runs of a schedule applied by 0.1 replay as they ran; new ones ask for the schedule to be applied again.
    if (patched(SCHEMA_1_REFUSED)) return refused(input as DailyHealthInputV1);
    return dailyHealthCheckV1(input as DailyHealthInputV1);
  }
  return checkHealth(input as DailyHealthInput);
}

async function checkHealth(input: DailyHealthInput): Promise<DailyHealthReport> {
  validateInput(input);
  const startedAt = new Date().toISOString();
  // Revenue is counted where customers pay: the last environment of the chain.
  const last = input.environments.at(-1);

  const groups: Promise<HealthCheck[]>[] = [];
  const stage = input.healthStage;
  if (stage) groups.push(healthStage(input, stage));
  for (const environment of input.environments) {
    groups.push(
      guarded([`${environment.name} health`, `${environment.name} readiness`], () =>
        checkActivities(`check ${environment.name}`).checkEnvironment({ environment }),
      ),
    );
  }
  const revenue = input.revenue;
  if (revenue) {
    groups.push(
      guarded(['stripe key'], async () => [
        await checkActivities('check stripe key').checkStripeKey({ secret: revenue.stripeKeySecret }),
      ]),
    );
    if (last) {
      groups.push(
        guarded(['revenue freshness'], async () => [
          await checkActivities(`check revenue in ${last.name}`).checkRevenueFreshness({
            environment: last,
            path: revenue.revenuePath,
            maxAgeMs: revenue.maxAgeMs,
          }),
        ]),
      );
    }
  } else {
    const why =
      'not checked: the config has no revenue block (add revenue: {...} to check Stripe and revenue tracking)';
    groups.push(
      Promise.resolve([
        { name: 'stripe key', ok: true, detail: why, notChecked: why },
        { name: 'revenue freshness', ok: true, detail: why, notChecked: why },
      ]),
    );
  }
  if (!stage) {
    const why = 'not checked: the config names no health.stage';
    groups.push(Promise.resolve([{ name: 'health stage', ok: true, detail: why, notChecked: why }]));
  }

  const checks = (await Promise.all(groups)).flat();
  return report(input, checks, startedAt);
}

/** The health stage on the commit the last environment serves (else the repository's default branch), in a checkout of its own. */
async function healthStage(
  input: DailyHealthInput,
  stage: NonNullable<DailyHealthInput['healthStage']>,
): Promise<HealthCheck[]> {
  try {
    const source = await sourceActivities('which commit to check').healthSource({
      source: input.source,
      ...(input.environments.at(-1) ? { environment: input.environments.at(-1)! } : {}),
    });
    try {
      const result = await runStageActivity(stage, {
        app: input.app,
        source,
        runner: input.runner,
        dependencies: input.dependencies,
        cache: false, // a health check asks how things are now: never an earlier answer
      });
      return [
        { name: stage.name, ok: true, detail: `${result.summary} (commit ${source.commit.slice(0, 12)})` },
      ];
    } finally {
      await CancellationScope.nonCancellable(() =>
        sourceActivities('remove checkout')
          .closeWorkspace({ app: input.app })
          .catch(() => undefined),
      );
    }
  } catch (error) {
    return [{ name: stage.name, ok: false, detail: messageOf(error) }];
  }
}

async function report(
  input: { app: string; notifications?: DailyHealthInput['notifications'] },
  checks: HealthCheck[],
  startedAt: string,
): Promise<DailyHealthReport> {
  const failed = checks.filter((c) => !c.ok);
  const result: DailyHealthReport = {
    app: input.app,
    checks,
    ok: failed.length === 0,
    startedAt,
    endedAt: new Date().toISOString(),
  };
  recordHealthReport(result);
  log.info('daily health checked', { app: input.app, ok: result.ok, failed: failed.map((c) => c.name) });
  if (!result.ok) {
    const ran = checks.filter((c) => !c.notChecked).length;
    const text = `${input.app}: ${failed.length} of ${ran} health checks failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`;
    // Never throws: an undeliverable notification does not change the report.
    await notifyInBackground(input.notifications, {
      kind: 'daily-health-failed',
      app: input.app,
      text,
      report: result,
    });
  }
  return result;
}

/** A schedule applied by Tollgate 0.1: one failed check that says how to bring the schedule up to date. */
function refused(input: DailyHealthInputV1): Promise<DailyHealthReport> {
  const detail =
    'this schedule was applied by Tollgate 0.1 (it checks the source folder on the worker, not a commit): run `tollgate schedule apply` to bring it up to date';
  return report(input, [{ name: 'schedule', ok: false, detail }], new Date().toISOString());
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

function validateInput(input: DailyHealthInput): void {
  const problems: string[] = [];
  if (!input.app) problems.push('app is empty');
  if (!input.source?.repository) problems.push('source.repository is empty');
  if (input.revenue && !(input.revenue.maxAgeMs > 0)) problems.push('revenue.maxAgeMs must be positive');
  if (input.revenue && !input.revenue.revenuePath?.startsWith('/'))
    problems.push('revenue.revenuePath must start with /');
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message: `invalid daily health input: ${problems.join('; ')}`,
      nonRetryable: true,
    });
  }
}
