/** From cumulative readings to per-interval counts, and what a latency histogram says. Pure. */
import type { Counts } from './outcomes.js';
import type { LatencyHistogram, Reading } from './readings.js';

/** One interval's counts per release, for one check. */
export interface IntervalCounts {
  canary: Counts;
  stable: Counts;
}

/** A check's cumulative counts per release at a reading; null where its signal could not be read. */
export type CountsAt = (reading: Reading) => IntervalCounts | null;

/** A counter's increase between two readings; a decrease means it restarted from zero (Prometheus's rule). */
export function increase(before: number, after: number): number {
  return after >= before ? after - before : after;
}

const delta = (before: Counts, after: Counts): Counts => ({
  exposure: increase(before.exposure, after.exposure),
  events: increase(before.events, after.events),
});

/** The interval between two readable cumulative counts, per release. */
export function intervalBetween(before: IntervalCounts, after: IntervalCounts): IntervalCounts {
  return { canary: delta(before.canary, after.canary), stable: delta(before.stable, after.stable) };
}

/** Sums counts. */
export function sumCounts(list: readonly Counts[]): Counts {
  return list.reduce((sum, c) => ({ exposure: sum.exposure + c.exposure, events: sum.events + c.events }), {
    exposure: 0,
    events: 0,
  });
}

/** Whether two histograms have the same buckets. */
export function sameBuckets(a: LatencyHistogram, b: LatencyHistogram): boolean {
  return (
    a.boundsMs.length === b.boundsMs.length &&
    a.counts.length === a.boundsMs.length + 1 &&
    b.counts.length === b.boundsMs.length + 1 &&
    a.boundsMs.every((bound, i) => bound === b.boundsMs[i])
  );
}

/** The requests a histogram holds. */
export function histogramTotal(h: LatencyHistogram): number {
  return h.counts.reduce((sum, c) => sum + c, 0);
}

/** A histogram's increase between two readings (same buckets), bucket by bucket. */
export function histogramIncrease(before: LatencyHistogram, after: LatencyHistogram): LatencyHistogram {
  return { boundsMs: after.boundsMs, counts: after.counts.map((c, i) => increase(before.counts[i] ?? 0, c)) };
}

/** Requests slower than `boundMs` (one of the histogram's bounds): the buckets above it, +Inf included. */
export function countAbove(h: LatencyHistogram, boundMs: number): number {
  const index = h.boundsMs.indexOf(boundMs);
  return index < 0 ? 0 : h.counts.slice(index + 1).reduce((sum, c) => sum + c, 0);
}

/**
 * The smallest bucket bound at or below which at least `q` of the requests fall (the p95 bucket
 * bound for q = 0.95); null when the histogram is empty or only the +Inf bucket qualifies.
 */
export function quantileBound(h: LatencyHistogram, q: number): number | null {
  const total = histogramTotal(h);
  if (total === 0) return null;
  let below = 0;
  for (const [i, bound] of h.boundsMs.entries()) {
    below += h.counts[i] ?? 0;
    if (below >= q * total) return bound;
  }
  return null;
}

/**
 * The q-quantile as Prometheus's `histogram_quantile` estimates it: linear within its bucket (from 0
 * in the first); the highest finite bound when it falls in +Inf; null for an empty histogram.
 */
export function quantileMs(h: LatencyHistogram, q: number): number | null {
  const total = histogramTotal(h);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (const [i, upper] of h.boundsMs.entries()) {
    const count = h.counts[i] ?? 0;
    if (count > 0 && below + count >= rank) {
      const lower = i === 0 ? 0 : (h.boundsMs[i - 1] ?? 0);
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return h.boundsMs[h.boundsMs.length - 1] ?? null;
}
