/**
 * One count compared between the releases over a window: the sequential test of sequential.ts run
 * over the readings, its evidence, and its outcome in words. The checks in comparisons.ts and
 * latency.ts say what is counted.
 */
import { intervalsOf, type CountsAt } from './counts.js';
import { count, percent, rate, stat } from './format.js';
import { Outcome, Reason, type CheckName, type CheckVerdict, type SequentialEvidence } from './outcomes.js';
import { driftPerEvent, eventsToPass } from './power.js';
import type { Reading } from './readings.js';
import { addInterval, mixtureLogLr, mixtureOf, startComparison } from './sequential.js';

/** What a comparison is judged with: the window so far (at least one reading), its α share and β. */
export interface ComparisonContext {
  readings: readonly Reading[];
  alpha: number;
  beta: number;
  /** The plan's negligible rate for plain counts (see CountSpec.negligibleRate). */
  negligibleRate?: number;
}

/** What is compared: the check, what its events are, and where its cumulative counts come from. */
export interface CountSpec {
  check: CheckName;
  rise: Reason;
  /** What the events are, for a person: `5xx`, `failed payments`. */
  label: string;
  measures: string;
  exposureUnit: SequentialEvidence['exposureUnit'];
  k: number;
  at: CountsAt;
  /** The first reading the intervals start from. */
  from: number;
  /** Why the latest reading has no counts. */
  unavailable: Reason;
  slowAboveMs?: number;
  /**
   * A rate too small to matter (5xx, failed payments): the check also passes once the canary's own
   * counts rule out a rate this high at level β. Without it, a release with no errors at all could
   * never pass a comparison of error rates; absent for latency, whose slow share is 5 % by design.
   */
  negligibleRate?: number;
}

/** P(X ≤ events) for X ~ Poisson(mean): how likely this few events are at a rate giving `mean`. */
export function poissonCdf(events: number, mean: number): number {
  let term = Math.exp(-mean);
  let sum = term;
  for (let i = 1; i <= events; i++) {
    term *= mean / i;
    sum += term;
  }
  return Math.min(1, sum);
}

/** Runs the sequential test over the window: its evidence, and whether the latest reading was readable. */
export function measure(
  ctx: ComparisonContext,
  spec: CountSpec,
): { evidence: SequentialEvidence; readable: boolean } {
  const { readings, alpha, beta } = ctx;
  const latest = readings[readings.length - 1]!;
  const comparison = intervalsOf(readings, spec.at, spec.from).reduce(
    addInterval,
    startComparison(mixtureOf(spec.k)),
  );
  const share = latest.weight / 100;
  const passLogLikelihoodRatio = comparison.logLr[0] ?? 0;
  const passThreshold = Math.log(beta);
  const minimumEvents = eventsToPass({ share, k: spec.k, beta });
  const missingEvents =
    minimumEvents === null
      ? null
      : Math.max(0, (passLogLikelihoodRatio - passThreshold) / -driftPerEvent(share, spec.k, 1));
  // The stable's rate over its whole life (history before the window included), to turn events into exposure.
  const now = spec.at(latest);
  const stableRate =
    now && now.stable.events > 0 && now.stable.exposure > 0 ? now.stable.events / now.stable.exposure : null;
  const evidence: SequentialEvidence = {
    kind: 'sequential',
    measures: spec.measures,
    exposureUnit: spec.exposureUnit,
    canary: comparison.canary,
    stable: comparison.stable,
    intervals: comparison.intervals,
    logLikelihoodRatio: mixtureLogLr(comparison),
    failThreshold: Math.log(1 / alpha),
    passLogLikelihoodRatio,
    passThreshold,
    alpha,
    beta,
    k: spec.k,
    minimumEvents,
    missingEvents,
    missingExposure: missingEvents === null || stableRate === null ? null : missingEvents / stableRate,
    ...(spec.slowAboveMs === undefined ? {} : { slowAboveMs: spec.slowAboveMs }),
  };
  return { evidence, readable: now !== null };
}

/** The sequential test's outcome, in words: fail at 1/α, pass at β, else how much evidence is missing. */
export function judgeCounts(ctx: ComparisonContext, spec: CountSpec): CheckVerdict {
  const { evidence: e, readable } = measure(ctx, spec);
  const weight = ctx.readings[ctx.readings.length - 1]!.weight;
  const verdict = (outcome: Outcome, reason: Reason, detail: string): CheckVerdict => ({
    check: spec.check,
    outcome,
    reason,
    detail,
    evidence: e,
  });
  const counts = `canary ${rate(e.canary.events, e.canary.exposure)} vs stable ${rate(e.stable.events, e.stable.exposure)}`;
  if (!readable)
    return verdict(
      Outcome.Unavailable,
      spec.unavailable,
      `${spec.label}: not readable at the latest reading`,
    );
  if (e.logLikelihoodRatio >= e.failThreshold) {
    const against = `ln LR ${stat(e.logLikelihoodRatio)} ≥ ${stat(e.failThreshold)}, α ${e.alpha.toPrecision(2)}`;
    return verdict(Outcome.Fail, spec.rise, `${spec.label} rose: ${counts} (${against})`);
  }
  if (e.passLogLikelihoodRatio <= e.passThreshold) {
    const against = `ln LR at ${spec.k}× ${stat(e.passLogLikelihoodRatio)} ≤ ln β ${stat(e.passThreshold)}`;
    return verdict(
      Outcome.Pass,
      Reason.NoChange,
      `no ${spec.k}× rise in ${spec.label}: ${counts} (${against})`,
    );
  }
  const negligible = spec.negligibleRate;
  if (
    negligible !== undefined &&
    e.canary.exposure > 0 &&
    poissonCdf(e.canary.events, e.canary.exposure * negligible) <= e.beta
  ) {
    return verdict(
      Outcome.Pass,
      Reason.NegligibleRate,
      `${spec.label} below ${percent(negligible)} on the canary (too rare to matter): ${counts} (β ${e.beta})`,
    );
  }
  const exposure = e.missingExposure === null ? '' : ` (≈ ${count(e.missingExposure)} ${spec.exposureUnit})`;
  const missing =
    e.missingEvents === null
      ? `no evidence accrues at ${weight} %`
      : `about ${count(Math.ceil(e.missingEvents))} more ${spec.label} in both releases${exposure} at ${weight} %`;
  return verdict(
    Outcome.Inconclusive,
    Reason.InsufficientEvidence,
    `${spec.label}: not enough evidence yet, ${missing}; ${counts}`,
  );
}
