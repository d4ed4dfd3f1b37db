/**
 * The latency comparison with the stable release, as counts of slow requests: the sequential test
 * (sequential.ts) on requests above the stable release's p95 bucket bound.
 */
import { judgeCounts, measure, type ComparisonContext } from './compare.js';
import { countAbove, histogramTotal, quantileBound, sameBuckets } from './counts.js';
import { CheckName, Outcome, Reason, type CheckVerdict } from './outcomes.js';
import type { LatencyHistogram, Reading } from './readings.js';

/** Stable requests the slow-request bound is read from: the p95 bucket of fewer rests on a handful. */
export const LATENCY_BOUND_MIN_REQUESTS = 100;

/** The share of requests above the slow-request bound, in the stable release, is at most 5 %. */
const SLOW_QUANTILE = 0.95;

/**
 * Latency as counts: requests slower than the stable release's p95 bucket bound, per request. Under
 * "no change" both releases have the same latency distribution, so a request is slow with the same
 * chance whichever served it, and the canary's share of slow requests follows its share of requests.
 * The bound is read once, from the stable's histogram at the first reading with enough requests
 * (its history before the window counts), and only the intervals after that reading are tested: a
 * bound chosen from the data it is tested on would break the test's validity.
 */
export function judgeLatency(ctx: ComparisonContext, k: number, floorMs = 0): CheckVerdict {
  const found = latencyBound(ctx.readings, floorMs);
  const spec = {
    check: CheckName.Latency,
    rise: Reason.LatencyRise,
    exposureUnit: 'requests',
    unavailable: Reason.InconsistentHistograms,
    k,
  } as const;
  if ('reason' in found) {
    const none = {
      ...spec,
      label: 'slow requests',
      measures: 'slow requests per request',
      from: 0,
      at: () => null,
    };
    return {
      check: CheckName.Latency,
      outcome: found.reason === Reason.InconsistentHistograms ? Outcome.Unavailable : Outcome.Inconclusive,
      reason: found.reason,
      detail: NO_BOUND[found.reason] ?? NO_BOUND[Reason.InsufficientEvidence]!,
      evidence: measure(ctx, none).evidence,
    };
  }
  const { from, boundMs, buckets } = found;
  const slow = (h: LatencyHistogram) => ({ exposure: histogramTotal(h), events: countAbove(h, boundMs) });
  return judgeCounts(ctx, {
    ...spec,
    label: `slow requests (> ${boundMs} ms)`,
    measures: `slow (> ${boundMs} ms) per request`,
    from,
    slowAboveMs: boundMs,
    // A canary almost never slow passes, too: above a floor the stable's own share can be next to nothing.
    ...(ctx.negligibleRate !== undefined ? { negligibleRate: ctx.negligibleRate } : {}),
    at: (r) =>
      r.stable && sameBuckets(r.canary.latency, buckets) && sameBuckets(r.stable.latency, buckets)
        ? { canary: slow(r.canary.latency), stable: slow(r.stable.latency) }
        : null,
  });
}

const NO_BOUND: Partial<Record<Reason, string>> = {
  [Reason.NoLatencyBound]:
    "latency: the stable release's p95 is above the last finite bucket, so there is no bound to count slow requests above",
  [Reason.InconsistentHistograms]: 'latency: the releases report different latency buckets',
  [Reason.InsufficientEvidence]: `latency: waiting for ${LATENCY_BOUND_MIN_REQUESTS} stable requests to read the slow-request bound from`,
};

/**
 * The slow-request bound and the reading it was read at, or why there is none yet. The bound is the
 * stable's p95 bucket bound, or the first bucket bound at `floorMs` or above when that is higher:
 * a few milliseconds more on a fast service (a fresh process warming up) are not a regression.
 */
function latencyBound(
  readings: readonly Reading[],
  floorMs: number,
): { from: number; boundMs: number; buckets: LatencyHistogram } | { reason: Reason } {
  let reason: Reason = Reason.InsufficientEvidence;
  for (const [i, r] of readings.entries()) {
    if (!r.stable) continue;
    if (!sameBuckets(r.canary.latency, r.stable.latency)) return { reason: Reason.InconsistentHistograms };
    if (histogramTotal(r.stable.latency) < LATENCY_BOUND_MIN_REQUESTS) continue;
    const p95 = quantileBound(r.stable.latency, SLOW_QUANTILE);
    const floor = r.stable.latency.boundsMs.find((bound) => bound >= floorMs);
    const boundMs = p95 === null ? null : floor === undefined ? p95 : Math.max(p95, floor);
    if (boundMs !== null) return { from: i, boundMs, buckets: r.stable.latency };
    reason = Reason.NoLatencyBound;
  }
  return { reason };
}
