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
import { count } from './format.js';
import { judgeErrorCeiling, judgeHealth } from './guards.js';
import { judgeExternal, judgeLimits } from './limits.js';
import { Outcome, Reason, type CheckVerdict, type Verdict, type VerdictAction } from './outcomes.js';
import { checkAlpha, type VerdictPlan } from './plan.js';
import type { Reading } from './readings.js';
import { windowOf, type WindowState } from './window.js';

/** What `judge()` is given. */
export interface JudgeInput {
  plan: VerdictPlan;
  /** Every reading of the window so far, oldest first; the first is taken as its traffic starts. */
  readings: readonly Reading[];
  /** The window's time is up: an inconclusive verdict takes the plan's `onInconclusive`. */
  windowEnded?: boolean;
}

/** Every check in critical order: health, 5xx ceiling, checkout stop, the comparisons, plain limits, external. */
export function runChecks(plan: VerdictPlan, window: WindowState): CheckVerdict[] {
  const { latest } = window;
  const baseline = latest.stable !== undefined;
  const ctx = {
    latest,
    alpha: checkAlpha(plan, baseline),
    beta: plan.beta,
    ...(plan.negligibleRate !== undefined ? { negligibleRate: plan.negligibleRate } : {}),
  };
  const k = plan.detectableRatio;
  const checks = [judgeHealth(latest), judgeErrorCeiling(window.recent, plan)];
  if (baseline && plan.revenue) checks.push(judgeCheckoutStop(latest, ctx.alpha, window.checkout));
  if (baseline)
    checks.push(judgeErrors(ctx, k.errors, window.errors), judgeLatency(ctx, k.latency, window.latency));
  if (baseline && plan.revenue)
    checks.push(judgeFailedPayments(ctx, k.failedPayments, window.failedPayments));
  if (plan.limits) checks.push(judgeLimits(window.limits, plan.limits));
  for (const limit of plan.external) checks.push(judgeExternal(latest, limit));
  return checks;
}

/** Judges the window at its latest reading. Throws a RangeError without a reading. */
export function judge(input: JudgeInput): Verdict {
  return judgeWindow(input.plan, windowOf(input.plan, input.readings), input.windowEnded ?? false);
}

/** Judges a window folded so far (window.ts) at its latest reading. */
export function judgeWindow(plan: VerdictPlan, window: WindowState, windowEnded = false): Verdict {
  const { latest } = window;
  const baseline = latest.stable !== undefined;
  const checks = runChecks(plan, window);
  const served = window.step.requests;
  const noBaseline = baseline ? '' : 'no baseline (first release), judged on absolute limits only: ';
  const verdict = (outcome: Outcome, reason: Reason, detail: string, by?: CheckVerdict): Verdict => ({
    outcome,
    action: actionOf(outcome, plan, windowEnded),
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
