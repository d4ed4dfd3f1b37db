/**
 * How much evidence a comparison needs: the minimum number of events α, β and k imply, and the
 * requests a schedule of canary steps needs on average to pass a healthy canary or to fail a worse
 * one. Wald's approximations (the expected evidence per event, no overshoot): for planning and for
 * saying how much is missing, never for deciding.
 */
import { mixtureOf } from './sequential.js';

/** KL(Bernoulli(p) ‖ Bernoulli(q)) in nats. */
export function bernoulliKl(p: number, q: number): number {
  const term = (a: number, b: number): number => (a === 0 ? 0 : a * Math.log(a / b));
  return term(p, q) + term(1 - p, 1 - q);
}

/** The canary's share of events when its rate is `ratio`× the stable's and its share of exposure is `share`. */
export function alternativeShare(share: number, ratio: number): number {
  return (ratio * share) / (ratio * share + 1 - share);
}

/**
 * The expected change of ln LR(`ratio`) per event when the canary's true rate is `trueRatio`× the
 * stable's: q ln k − ln(1 + (k − 1) s), q the true share of events. −KL(s ‖ p1) for a canary like the
 * stable; +KL(p1 ‖ s) for one exactly k× worse.
 */
export function driftPerEvent(share: number, ratio: number, trueRatio: number): number {
  return alternativeShare(share, trueRatio) * Math.log(ratio) - Math.log1p((ratio - 1) * share);
}

const informative = (share: number): boolean => share > 0 && share < 1;

/**
 * The minimum evidence: events in both releases a canary like the stable needs, on average, to pass
 * from nothing at a canary share `share`: ln(1/β) / KL(s ‖ p1). Null at share 0 or 1 (no evidence accrues).
 */
export function eventsToPass(options: { share: number; k: number; beta: number }): number | null {
  const { share, k, beta } = options;
  if (!informative(share)) return null;
  return Math.log(1 / beta) / -driftPerEvent(share, k, 1);
}

/**
 * Events in both releases needed, on average, to fail a canary exactly k× worse at share `share`:
 * ln(1 / (α w_k)) / KL(p1 ‖ s), w_k the mixture's weight on k (its other alternatives only help).
 */
export function eventsToFail(options: { share: number; k: number; alpha: number }): number | null {
  const { share, k, alpha } = options;
  if (!informative(share)) return null;
  const weight = mixtureOf(k)[0]?.weight ?? 1;
  return Math.log(1 / (alpha * weight)) / driftPerEvent(share, k, k);
}

/** One step of a schedule: the canary's weight in percent and the requests (both releases) it serves. */
export interface ScheduleStep {
  weight: number;
  requests: number;
}

/** Where a schedule is expected to reach a boundary: requests so far (both releases, and the canary's), the step. */
export interface Crossing {
  requests: number;
  canaryRequests: number;
  step: number;
}

/** What `forecast()` expects of a schedule. */
export interface Forecast {
  /** A canary like the stable: where it passes, or null if not within the schedule. */
  pass: Crossing | null;
  /** A canary `trueRatio`× worse: where it fails, or null if not within the schedule. */
  fail: Crossing | null;
}

/**
 * The power calculation for a schedule of steps: where, on average, a canary like the stable passes
 * and one `trueRatio`× worse (default k) fails, given the stable's event rate per request. The fail
 * point uses the mixture's alternative that gets there first, at its own threshold ln(1 / (α w_j)).
 */
export function forecast(options: {
  steps: readonly ScheduleStep[];
  /** Events per request at the stable's rate (e.g. 0.005 for 0.5 % 5xx). */
  rate: number;
  k: number;
  alpha: number;
  beta: number;
  trueRatio?: number;
}): Forecast {
  const { steps, rate, k, alpha, beta, trueRatio = k } = options;
  const pass = crossing(steps, (s) => rate * -driftPerEvent(s, k, 1), Math.log(1 / beta));
  const candidates = mixtureOf(k)
    .map((alt) => {
      const eventsPerRequest = (s: number): number => rate * (trueRatio * s + 1 - s);
      const drift = (s: number): number => eventsPerRequest(s) * driftPerEvent(s, alt.ratio, trueRatio);
      return crossing(steps, drift, Math.log(1 / (alpha * alt.weight)));
    })
    .filter((c): c is Crossing => c !== null);
  const fail = candidates.reduce<Crossing | null>(
    (best, c) => (!best || c.requests < best.requests ? c : best),
    null,
  );
  return { pass, fail };
}

/** Where the evidence, growing by `drift(share)` per request, first reaches `target`. */
function crossing(
  steps: readonly ScheduleStep[],
  drift: (share: number) => number,
  target: number,
): Crossing | null {
  let evidence = 0;
  let requests = 0;
  let canaryRequests = 0;
  for (const [step, { weight, requests: stepRequests }] of steps.entries()) {
    const share = weight / 100;
    const perRequest = informative(share) ? drift(share) : 0;
    if (perRequest > 0 && evidence + perRequest * stepRequests >= target) {
      const needed = (target - evidence) / perRequest;
      return { requests: requests + needed, canaryRequests: canaryRequests + share * needed, step };
    }
    evidence += perRequest * stepRequests;
    requests += stepRequests;
    canaryRequests += share * stepRequests;
  }
  return null;
}
