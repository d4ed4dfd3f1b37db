/**
 * Plain thresholds for users who want them: Argo Rollouts-style limits over the canary's own numbers,
 * and external signals (a Prometheus query) against a min or max. Outside the stated α; an external
 * signal that cannot be read is `unavailable`, never a fail.
 */
import { histogramIncrease, histogramTotal, increase, quantileMs, sameBuckets } from './counts.js';
import { count, percent } from './format.js';
import { CheckName, Outcome, Reason, type CheckVerdict, type LimitsEvidence } from './outcomes.js';
import type { ExternalLimit, PlainLimits } from './plan.js';
import type { LatencyHistogram, Reading } from './readings.js';

/** Requests per measurement unless the limits say otherwise. */
export const DEFAULT_MEASUREMENT_REQUESTS = 20;

interface Measurement {
  requests: number;
  errors: number;
  /** Undefined before the first interval; null when the buckets changed within the measurement. */
  latency: LatencyHistogram | null | undefined;
}

function addLatency(sum: Measurement['latency'], more: LatencyHistogram | null): LatencyHistogram | null {
  if (sum === undefined || more === null) return more;
  if (sum === null || !sameBuckets(sum, more)) return null;
  return { boundsMs: more.boundsMs, counts: more.counts.map((c, j) => c + (sum.counts[j] ?? 0)) };
}

/** Consecutive intervals grouped into measurements of at least `minRequests` canary requests each. */
function measurements(readings: readonly Reading[], minRequests: number): Measurement[] {
  const out: Measurement[] = [];
  let open: Measurement = { requests: 0, errors: 0, latency: undefined };
  for (let i = 1; i < readings.length; i++) {
    const [before, after] = [readings[i - 1]!.canary, readings[i]!.canary];
    const latency = sameBuckets(before.latency, after.latency)
      ? histogramIncrease(before.latency, after.latency)
      : null;
    open = {
      requests: open.requests + increase(before.requests, after.requests),
      errors: open.errors + increase(before.errors, after.errors),
      latency: addLatency(open.latency, latency),
    };
    if (open.requests >= minRequests) {
      out.push(open);
      open = { requests: 0, errors: 0, latency: undefined };
    }
  }
  return out;
}

/**
 * Argo-style limits: a measurement fails when its 5xx share is above `maxErrorRate` or its p95 above
 * `maxP95LatencyMs`; the check fails after more than `failureLimit` failed measurements (default 0,
 * or none when only `consecutiveFailureLimit` is set) or `consecutiveFailureLimit` in a row.
 */
export function judgeLimits(readings: readonly Reading[], limits: PlainLimits): CheckVerdict {
  const taken = measurements(readings, limits.minRequests ?? DEFAULT_MEASUREMENT_REQUESTS);
  const failureLimit = limits.failureLimit ?? (limits.consecutiveFailureLimit === undefined ? 0 : Infinity);
  let failures = 0;
  let consecutive = 0;
  let last: LimitsEvidence['last'];
  for (const m of taken) {
    const errorRate = m.errors / m.requests;
    const p95 = m.latency && histogramTotal(m.latency) > 0 ? quantileMs(m.latency, 0.95) : null;
    const breached =
      (limits.maxErrorRate !== undefined && errorRate > limits.maxErrorRate) ||
      (limits.maxP95LatencyMs !== undefined && p95 !== null && p95 > limits.maxP95LatencyMs);
    failures += breached ? 1 : 0;
    consecutive = breached ? consecutive + 1 : 0;
    last = { requests: m.requests, errorRate, p95LatencyMs: p95, breached };
  }
  const overLimit = failures > failureLimit;
  const inARow =
    limits.consecutiveFailureLimit !== undefined && consecutive >= limits.consecutiveFailureLimit;
  const evidence: LimitsEvidence = {
    kind: 'limits',
    measurements: taken.length,
    failures,
    consecutiveFailures: consecutive,
    failureLimit: Number.isFinite(failureLimit) ? failureLimit : null,
    consecutiveFailureLimit: limits.consecutiveFailureLimit ?? null,
    ...(last ? { last } : {}),
  };
  const latest = last
    ? `latest: 5xx ${percent(last.errorRate)}, p95 ${last.p95LatencyMs === null ? '-' : `${count(last.p95LatencyMs)} ms`} over ${count(last.requests)} requests`
    : 'no measurement yet';
  const reason = overLimit ? Reason.LimitFailures : inARow ? Reason.LimitConsecutive : Reason.WithinLimits;
  return {
    check: CheckName.Limits,
    outcome: overLimit || inARow ? Outcome.Fail : Outcome.Pass,
    reason,
    detail: `limits: ${failures} of ${taken.length} measurements failed${consecutive > 1 ? ` (${consecutive} in a row)` : ''}; ${latest}`,
    evidence,
  };
}

/** An external signal at the latest reading against its plain threshold. */
export function judgeExternal(latest: Reading, limit: ExternalLimit): CheckVerdict {
  const read = latest.external?.find((e) => e.name === limit.name);
  const bounds = {
    ...(limit.min === undefined ? {} : { min: limit.min }),
    ...(limit.max === undefined ? {} : { max: limit.max }),
  };
  const verdict = (
    outcome: Outcome,
    reason: Reason,
    detail: string,
    seen: { value: number } | { error: string },
  ): CheckVerdict => ({
    check: CheckName.External,
    outcome,
    reason,
    detail,
    evidence: { kind: 'external', name: limit.name, ...bounds, ...seen },
  });
  if (!read || !('value' in read)) {
    const error = read && 'unavailable' in read ? read.unavailable : 'not read';
    return verdict(
      Outcome.Unavailable,
      Reason.EvidenceUnavailable,
      `${limit.name}: evidence unavailable (${error})`,
      { error },
    );
  }
  const low = limit.min !== undefined && read.value < limit.min;
  const high = limit.max !== undefined && read.value > limit.max;
  const detail = low
    ? `${limit.name} ${read.value} is below its minimum ${limit.min}`
    : high
      ? `${limit.name} ${read.value} is above its maximum ${limit.max}`
      : `${limit.name} ${read.value} is within its limits`;
  return verdict(
    low || high ? Outcome.Fail : Outcome.Pass,
    low || high ? Reason.ExternalBreach : Reason.WithinLimits,
    detail,
    {
      value: read.value,
    },
  );
}
