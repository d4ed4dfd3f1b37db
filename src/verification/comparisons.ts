/**
 * The comparisons of plain counts with the stable release: 5xx per request, and failed payments per
 * payment attempt (configs with revenue). Latency is in latency.ts.
 */
import { judgeCounts, type ComparisonContext } from './compare.js';
import { CheckName, Reason, type CheckVerdict } from './outcomes.js';

/** 5xx per request: a canary whose 5xx rate is k× the stable's fails. */
export function judgeErrors(ctx: ComparisonContext, k: number): CheckVerdict {
  return judgeCounts(ctx, {
    check: CheckName.Errors,
    rise: Reason.ErrorRise,
    label: '5xx',
    measures: '5xx per request',
    exposureUnit: 'requests',
    k,
    from: 0,
    unavailable: Reason.EvidenceUnavailable,
    ...(ctx.negligibleRate !== undefined ? { negligibleRate: ctx.negligibleRate } : {}),
    at: (r) =>
      r.stable
        ? {
            canary: { exposure: r.canary.requests, events: r.canary.errors },
            stable: { exposure: r.stable.requests, events: r.stable.errors },
          }
        : null,
  });
}

/** Failed payments per payment attempt (configs with revenue): a canary k× as likely to fail a payment fails. */
export function judgeFailedPayments(ctx: ComparisonContext, k: number): CheckVerdict {
  return judgeCounts(ctx, {
    check: CheckName.FailedPayments,
    rise: Reason.FailedPaymentsRise,
    label: 'failed payments',
    measures: 'failed payments per payment attempt',
    exposureUnit: 'payment attempts',
    k,
    from: 0,
    unavailable: Reason.EvidenceUnavailable,
    ...(ctx.negligibleRate !== undefined ? { negligibleRate: ctx.negligibleRate } : {}),
    at: (r) =>
      r.stable?.revenue && r.canary.revenue
        ? {
            canary: { exposure: r.canary.revenue.paymentAttempts, events: r.canary.revenue.failedPayments },
            stable: { exposure: r.stable.revenue.paymentAttempts, events: r.stable.revenue.failedPayments },
          }
        : null,
  });
}
