/**
 * The latency comparison with the stable release, as counts of slow requests: the sequential test
 * (sequential.ts) on requests above the stable release's p95 bucket bound.
 */
import {
  foldCounts,
  judgeCounts,
  measure,
  startCounts,
  type ComparisonContext,
  type CountsState,
} from './compare.js';
import { countAbove, histogramTotal, quantileBound, sameBuckets, type CountsAt } from './counts.js';
import { CheckName, Outcome, Reason, type CheckVerdict } from './outcomes.js';
import type { LatencyHistogram, Reading } from './readings.js';
import { mixtureOf } from './sequential.js';

/** Stable requests the slow-request bound is read from: the p95 bucket of fewer rests on a handful. */
export const LATENCY_BOUND_MIN_REQUESTS = 100;

/** The share of requests above the slow-request bound, in the stable release, is at most 5 %. */
const SLOW_QUANTILE = 0.95;

/** The slow-request bound, and the buckets both releases must keep for counts above it to compare. */
export interface LatencyBound {
  boundMs: number;
  buckets: LatencyHistogram;
}

/**
 * The latency comparison carried through a window: the bound once read (else why there is none yet;
 * histograms that disagree before a bound is read are final) and the slow-request counts since.
 */
export interface LatencyState {
  bound: LatencyBound | null;
  reason: Reason;
  counts: CountsState;
}

/** The latency comparison before any reading, for detectable ratio `k`. */
export function startLatency(k: number): LatencyState {
  return { bound: null, reason: Reason.InsufficientEvidence, counts: startCounts(mixtureOf(k)) };
}

/** Slow requests (above the bound) per request, both releases; null where the buckets changed. */
function slowAt({ boundMs, buckets }: LatencyBound): CountsAt {
  const slow = (h: LatencyHistogram) => ({ exposure: histogramTotal(h), events: countAbove(h, boundMs) });
  return (r) =>
    r.stable && sameBuckets(r.canary.latency, buckets) && sameBuckets(r.stable.latency, buckets)
      ? { canary: slow(r.canary.latency), stable: slow(r.stable.latency) }
      : null;
}

/**
 * The latency comparison after one more reading. Until a bound is read, the reading may supply it:
 * the stable's p95 bucket bound, or the first bucket bound at `floorMs` or above when that is higher
 * (a few milliseconds more on a fast service, a fresh process warming up, are not a regression), once
 * the stable has served enough requests (its history before the window counts). Only the intervals
 * after that reading are tested: a bound chosen from the data it is tested on would break the test.
 */
export function foldLatency(state: LatencyState, reading: Reading, floorMs: number): LatencyState {
  if (state.bound) return { ...state, counts: foldCounts(state.counts, reading, slowAt(state.bound)) };
  const stable = reading.stable;
  if (state.reason === Reason.InconsistentHistograms || !stable) return state;
  if (!sameBuckets(reading.canary.latency, stable.latency))
    return { ...state, reason: Reason.InconsistentHistograms };
  if (histogramTotal(stable.latency) < LATENCY_BOUND_MIN_REQUESTS) return state;
  const p95 = quantileBound(stable.latency, SLOW_QUANTILE);
  const floor = stable.latency.boundsMs.find((bound) => bound >= floorMs);
  const boundMs = p95 === null ? null : floor === undefined ? p95 : Math.max(p95, floor);
  if (boundMs === null) return { ...state, reason: Reason.NoLatencyBound };
  const bound = { boundMs, buckets: stable.latency };
  return { ...state, bound, counts: foldCounts(state.counts, reading, slowAt(bound)) };
}

/**
 * Latency as counts: requests slower than the stable release's p95 bucket bound, per request. Under
 * "no change" both releases have the same latency distribution, so a request is slow with the same
 * chance whichever served it, and the canary's share of slow requests follows its share of requests.
 */
export function judgeLatency(ctx: ComparisonContext, k: number, state: LatencyState): CheckVerdict {
  const spec = {
    check: CheckName.Latency,
    rise: Reason.LatencyRise,
    exposureUnit: 'requests',
    unavailable: Reason.InconsistentHistograms,
    k,
  } as const;
  const { bound } = state;
  if (!bound) {
    const none = { ...spec, label: 'slow requests', measures: 'slow requests per request', at: () => null };
    return {
      check: CheckName.Latency,
      outcome: state.reason === Reason.InconsistentHistograms ? Outcome.Unavailable : Outcome.Inconclusive,
      reason: state.reason,
      detail: NO_BOUND[state.reason] ?? NO_BOUND[Reason.InsufficientEvidence]!,
      evidence: measure(ctx, none, state.counts).evidence,
    };
  }
  return judgeCounts(
    ctx,
    {
      ...spec,
      label: `slow requests (> ${bound.boundMs} ms)`,
      measures: `slow (> ${bound.boundMs} ms) per request`,
      slowAboveMs: bound.boundMs,
      // A canary almost never slow passes, too: above a floor the stable's own share can be next to nothing.
      ...(ctx.negligibleRate !== undefined ? { negligibleRate: ctx.negligibleRate } : {}),
      at: slowAt(bound),
    },
    state.counts,
  );
}

const NO_BOUND: Partial<Record<Reason, string>> = {
  [Reason.NoLatencyBound]:
    "latency: the stable release's p95 is above the last finite bucket, so there is no bound to count slow requests above",
  [Reason.InconsistentHistograms]: 'latency: the releases report different latency buckets',
  [Reason.InsufficientEvidence]: `latency: waiting for ${LATENCY_BOUND_MIN_REQUESTS} stable requests to read the slow-request bound from`,
};
