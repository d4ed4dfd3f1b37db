/**
 * What a verification window reads at the end of each interval: per release, the proxy's cumulative
 * counters. Cumulative (since each release started) so that a missed reading loses nothing: the next
 * one covers the gap. Pure data, safe in workflow code.
 */

/** Default latency bucket upper bounds in ms; the proxy adds a +Inf bucket after the last. */
export const DEFAULT_LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** A histogram with no requests yet, on `boundsMs` (the default bounds unless given). */
export function emptyLatency(boundsMs: readonly number[] = DEFAULT_LATENCY_BOUNDS_MS): {
  boundsMs: number[];
  counts: number[];
} {
  return { boundsMs: [...boundsMs], counts: [...boundsMs, Infinity].map(() => 0) };
}

/**
 * A latency histogram: `counts[i]` requests took more than `boundsMs[i - 1]` and at most `boundsMs[i]`
 * ms; the last count is the +Inf bucket. Counts per bucket (not cumulative over buckets), cumulative
 * over time.
 */
export interface LatencyHistogram {
  /** Finite upper bounds in ms, ascending, the same for both releases and every reading of a window. */
  boundsMs: readonly number[];
  /** One count per bound, then one for +Inf: `counts.length === boundsMs.length + 1`. */
  counts: readonly number[];
}

/** The payment counters the app reports per release (configs with a `revenue:` block). */
export interface RevenueCounters {
  /** Checkouts that reached the payment provider. */
  paymentAttempts: number;
  /** Attempts the provider declined or that errored. */
  failedPayments: number;
  /** Revenue the app recorded (Stripe's payment events), whenever they arrived. */
  revenueEvents: number;
  /** Of `paymentAttempts`, the canary's payment probes (test mode); absent where none came. */
  synthetic?: number;
}

/** One release's cumulative counters at one reading, as the proxy keeps them. */
export interface ReleaseCounters {
  requests: number;
  /** Of `requests`, synthetic ones (the canary's probes); absent where nothing was synthetic. */
  synthetic?: number;
  /** Responses with a 5xx status (and requests the proxy could not forward). */
  errors: number;
  latency: LatencyHistogram;
  /** The release's health endpoint answered at this reading. */
  healthy: boolean;
  /** Absent without a `revenue:` block; `null` when the app's counters could not be read this time. */
  revenue?: RevenueCounters | null;
}

/** An extra signal read from outside the proxy (a Prometheus query): its value, or why it could not be read. */
export type ExternalReading = { name: string; value: number } | { name: string; unavailable: string };

/** Everything read at the end of one interval. A window's first reading is taken as its traffic starts. */
export interface Reading {
  /** The canary step (0-based index into the window's weights) the interval ran in. */
  step: number;
  /** The canary's traffic weight during the interval, in percent (5, 25, 50, 100). */
  weight: number;
  canary: ReleaseCounters;
  /** The stable release; absent for a first release, which has nothing to compare with. */
  stable?: ReleaseCounters;
  external?: readonly ExternalReading[];
}
