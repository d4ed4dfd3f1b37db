/**
 * One count compared between the releases over a window: the sequential test of sequential.ts folded
 * over the readings one at a time, its evidence, and its outcome in words. The checks in
 * comparisons.ts and latency.ts say what is counted.
 */
import { intervalBetween, type CountsAt, type IntervalCounts } from './counts.js';
import { count, percent, rate, stat } from './format.js';
import { Outcome, Reason, type CheckName, type CheckVerdict, type SequentialEvidence } from './outcomes.js';
import { driftPerEvent, eventsToPass } from './power.js';
import type { Reading } from './readings.js';
import {
  addInterval,
  mixtureLogLr,
  startComparison,
  type Alternative,
  type Comparison,
} from './sequential.js';

/** What a comparison is judged with: the window's latest reading, its α share and β. */
export interface ComparisonContext {
  latest: Reading;
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

/**
 * A comparison carried through a window: the test's state, and the latest readable counts the next
 * interval starts from. A reading whose signal cannot be read is skipped and the next readable one
 * covers its span: the counters are cumulative, so a gap loses nothing, it only makes one interval
 * longer. Pure data: a workflow can carry it across continue-as-new.
 */
export interface CountsState {
  comparison: Comparison;
  previous: IntervalCounts | null;
}

/** A comparison before any reading. */
export function startCounts(alternatives: Alternative[]): CountsState {
  return { comparison: startComparison(alternatives), previous: null };
}

/** The comparison after one more reading: the interval since the previous readable one is added. */
export function foldCounts(state: CountsState, reading: Reading, at: CountsAt): CountsState {
  const now = at(reading);
  if (!now) return state;
  const comparison = state.previous
    ? addInterval(state.comparison, intervalBetween(state.previous, now))
    : state.comparison;
  return { comparison, previous: now };
}

/** The sequential test's evidence so far, and whether the latest reading was readable. */
export function measure(
  ctx: ComparisonContext,
  spec: CountSpec,
  state: CountsState,
): { evidence: SequentialEvidence; readable: boolean } {
  const { latest, alpha, beta } = ctx;
  const { comparison } = state;
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
export function judgeCounts(ctx: ComparisonContext, spec: CountSpec, state: CountsState): CheckVerdict {
  const { evidence: e, readable } = measure(ctx, spec, state);
  const weight = ctx.latest.weight;
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
