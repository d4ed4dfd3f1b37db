/**
 * The comparisons of plain counts with the stable release: 5xx per request, and failed payments per
 * payment attempt (configs with revenue). Latency is in latency.ts.
 */
import { judgeCounts, type ComparisonContext, type CountsState } from './compare.js';
import type { CountsAt } from './counts.js';
import { CheckName, Reason, type CheckVerdict } from './outcomes.js';

/** 5xx per request, both releases; null without a stable release. */
export const errorsAt: CountsAt = (r) =>
  r.stable
    ? {
        canary: { exposure: r.canary.requests, events: r.canary.errors },
        stable: { exposure: r.stable.requests, events: r.stable.errors },
      }
    : null;

/** Failed payments per payment attempt, both releases; null where either's revenue could not be read. */
export const failedPaymentsAt: CountsAt = (r) =>
  r.stable?.revenue && r.canary.revenue
    ? {
        canary: { exposure: r.canary.revenue.paymentAttempts, events: r.canary.revenue.failedPayments },
        stable: { exposure: r.stable.revenue.paymentAttempts, events: r.stable.revenue.failedPayments },
      }
    : null;

/** 5xx per request: a canary whose 5xx rate is k× the stable's fails. */
export function judgeErrors(ctx: ComparisonContext, k: number, state: CountsState): CheckVerdict {
  return judgeCounts(
    ctx,
    {
      check: CheckName.Errors,
      rise: Reason.ErrorRise,
      label: '5xx',
      measures: '5xx per request',
      exposureUnit: 'requests',
      k,
      unavailable: Reason.EvidenceUnavailable,
      ...(ctx.negligibleRate !== undefined ? { negligibleRate: ctx.negligibleRate } : {}),
      at: errorsAt,
    },
    state,
  );
}

/** Failed payments per payment attempt (configs with revenue): a canary k× as likely to fail a payment fails. */
export function judgeFailedPayments(ctx: ComparisonContext, k: number, state: CountsState): CheckVerdict {
  return judgeCounts(
    ctx,
    {
      check: CheckName.FailedPayments,
      rise: Reason.FailedPaymentsRise,
      label: 'failed payments',
      measures: 'failed payments per payment attempt',
      exposureUnit: 'payment attempts',
      k,
      unavailable: Reason.EvidenceUnavailable,
      ...(ctx.negligibleRate !== undefined ? { negligibleRate: ctx.negligibleRate } : {}),
      at: failedPaymentsAt,
    },
    state,
  );
}
