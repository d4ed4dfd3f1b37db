/**
 * The verdict at one reading of a verification window: every check over the readings so far,
 * combined critical first. Pure and deterministic (no clock, no randomness, no I/O), so workflow code
 * can call it and a replay reaches the same verdict.
 *
 * Fail when any check fails (the first in critical order names the reason); else `unavailable` when
 * a signal could not be read (the caller's wait limit decides); else inconclusive until every check
 * has passed, the stable release is up and the step has served its minimum requests; then pass.
 */
import { judgeCheckoutStop } from './checkout.js';
import { judgeErrors, judgeFailedPayments } from './comparisons.js';
import { judgeLatency } from './latency.js';
import { increase } from './counts.js';
import { count } from './format.js';
import { judgeErrorCeiling, judgeHealth } from './guards.js';
import { judgeExternal, judgeLimits } from './limits.js';
import { Outcome, Reason, type CheckVerdict, type Verdict, type VerdictAction } from './outcomes.js';
import { checkAlpha, type VerdictPlan } from './plan.js';
import type { Reading } from './readings.js';

/** What `judge()` is given. */
export interface JudgeInput {
  plan: VerdictPlan;
  /** Every reading of the window so far, oldest first; the first is taken as its traffic starts. */
  readings: readonly Reading[];
  /** The window's time is up: an inconclusive verdict takes the plan's `onInconclusive`. */
  windowEnded?: boolean;
}

/** Every check in critical order: health, 5xx ceiling, checkout stop, the comparisons, plain limits, external. */
export function runChecks(plan: VerdictPlan, readings: readonly Reading[]): CheckVerdict[] {
  const latest = readings[readings.length - 1]!;
  const baseline = latest.stable !== undefined;
  const ctx = {
    readings,
    alpha: checkAlpha(plan, baseline),
    beta: plan.beta,
    ...(plan.negligibleRate !== undefined ? { negligibleRate: plan.negligibleRate } : {}),
  };
  const k = plan.detectableRatio;
  const checks = [judgeHealth(readings), judgeErrorCeiling(readings, plan)];
  if (baseline && plan.revenue) checks.push(judgeCheckoutStop(readings, ctx.alpha));
  if (baseline) checks.push(judgeErrors(ctx, k.errors), judgeLatency(ctx, k.latency, plan.latencyFloorMs));
  if (baseline && plan.revenue) checks.push(judgeFailedPayments(ctx, k.failedPayments));
  if (plan.limits) checks.push(judgeLimits(readings, plan.limits));
  for (const limit of plan.external) checks.push(judgeExternal(latest, limit));
  return checks;
}

/** The canary's requests in the latest reading's step so far. */
export function stepRequests(readings: readonly Reading[]): number {
  const step = readings[readings.length - 1]?.step;
  let requests = 0;
  for (let i = 1; i < readings.length; i++) {
    if (readings[i]!.step === step)
      requests += increase(readings[i - 1]!.canary.requests, readings[i]!.canary.requests);
  }
  return requests;
}

/** Judges the window at its latest reading. Throws a RangeError without a reading. */
export function judge(input: JudgeInput): Verdict {
  const { plan, readings } = input;
  const latest = readings[readings.length - 1];
  if (!latest) throw new RangeError('judge() needs at least one reading: the one taken as traffic starts');
  const baseline = latest.stable !== undefined;
  const checks = runChecks(plan, readings);
  const served = stepRequests(readings);
  const noBaseline = baseline ? '' : 'no baseline (first release), judged on absolute limits only: ';
  const verdict = (outcome: Outcome, reason: Reason, detail: string, by?: CheckVerdict): Verdict => ({
    outcome,
    action: actionOf(outcome, plan, input.windowEnded ?? false),
    reason,
    detail: noBaseline + detail,
    ...(by ? { decidedBy: by.check } : {}),
    step: latest.step,
    weight: latest.weight,
    stepRequests: served,
    baseline: baseline ? 'stable' : 'none',
    alpha: plan.alpha,
    beta: plan.beta,
    checks,
  });
  const first = (outcome: Outcome): CheckVerdict | undefined => checks.find((c) => c.outcome === outcome);
  const decided = first(Outcome.Fail) ?? first(Outcome.Unavailable);
  if (decided) {
    const others = checks.filter((c) => c.outcome === decided.outcome).length - 1;
    const detail = others > 0 ? `${decided.detail} (and ${others} more)` : decided.detail;
    return verdict(decided.outcome, decided.reason, detail, decided);
  }
  if (latest.stable && !latest.stable.healthy) {
    return verdict(
      Outcome.Inconclusive,
      Reason.StableDown,
      'the stable release is down: a broken baseline cannot vouch for the canary',
    );
  }
  const open = checks.filter((c) => c.outcome === Outcome.Inconclusive);
  if (open[0]) {
    const detail =
      open.length > 1 ? `${open[0].detail} (and ${open.length - 1} more checks)` : open[0].detail;
    return verdict(Outcome.Inconclusive, open[0].reason, detail, open[0]);
  }
  if (served < plan.minRequestsPerStep) {
    const detail = `step ${latest.step + 1} at ${latest.weight} %: the canary has served ${count(served)} of ${plan.minRequestsPerStep} requests`;
    return verdict(Outcome.Inconclusive, Reason.StepExposure, detail);
  }
  return baseline
    ? verdict(
        Outcome.Pass,
        Reason.EvidenceSufficient,
        `every check passed against the stable release at ${latest.weight} %`,
      )
    : verdict(
        Outcome.Pass,
        Reason.NoBaselineWithinLimits,
        `every limit held over ${count(served)} canary requests at ${latest.weight} %`,
      );
}

/** What an outcome asks of the window: an inconclusive end takes the plan's default. */
function actionOf(outcome: Outcome, plan: VerdictPlan, windowEnded: boolean): VerdictAction {
  switch (outcome) {
    case Outcome.Fail:
      return 'rollback';
    case Outcome.Pass:
      return 'advance';
    case Outcome.Unavailable:
      return 'wait';
    case Outcome.Inconclusive:
      return windowEnded ? plan.onInconclusive : 'continue';
  }
}
