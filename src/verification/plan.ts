/**
 * How a window judges: the false-alarm rate and how it is shared, the change worth catching, the
 * critical limits and the default for an inconclusive end. `verdictPlan()` fills the defaults.
 */
import { CheckName, INCONCLUSIVE_ACTIONS, type InconclusiveAction } from './outcomes.js';

/**
 * Argo Rollouts-style plain limits for users who want them. A measurement is a run of consecutive
 * intervals with at least `minRequests` canary requests; it fails when it breaches a threshold.
 * These limits are outside the stated α: a plain threshold has no error rate of its own.
 */
export interface PlainLimits {
  maxErrorRate?: number;
  /** Read from the histogram as Prometheus's `histogram_quantile` does (linear within a bucket). */
  maxP95LatencyMs?: number;
  /** Fail after more than this many failed measurements (Argo's `failureLimit`; 0: the first fails). */
  failureLimit?: number;
  /**
   * Fail after this many failed measurements in a row. Argo's `consecutiveErrorLimit` counts
   * measurements that could not be taken; here those are `unavailable`, never a fail.
   */
  consecutiveFailureLimit?: number;
  /** Requests per measurement (default 20: the p95 of fewer requests is just their maximum). */
  minRequests?: number;
}

/** A plain threshold on an external signal, matched by name. */
export interface ExternalLimit {
  name: string;
  min?: number;
  max?: number;
}

/** The detectable ratio per compared count: the canary's rate k× the stable's. */
export interface DetectableRatios {
  errors: number;
  latency: number;
  failedPayments: number;
}

/** A complete plan, as `verdictPlan()` returns it. */
export interface VerdictPlan {
  /** The false-alarm rate of the whole verdict for a canary no worse than the stable release. */
  alpha: number;
  /** The chance of passing a canary that is worse by the detectable ratio (1 - power). */
  beta: number;
  detectableRatio: DetectableRatios;
  /** The canary's 5xx share that fails at once (critical), over its latest `errorCeilingMinRequests`. */
  errorCeiling: number;
  errorCeilingMinRequests: number;
  /**
   * A 5xx or failed-payment rate too small to matter: a canary whose own counts rule it out (at β)
   * passes that comparison even when the stable release has too few events to compare with.
   * Absent in plans made before it existed (then only the comparison can pass).
   */
  negligibleRate?: number;
  /**
   * Requests faster than this never count as slow (the slow-request bound is at least the first
   * histogram bound at or above it); absent in plans made before it existed (then 0).
   */
  latencyFloorMs?: number;
  /** Canary requests each step must serve before it can pass. */
  minRequestsPerStep: number;
  onInconclusive: InconclusiveAction;
  /** The app reports payment counters: adds the failed-payments and checkout-stop checks. */
  revenue: boolean;
  limits?: PlainLimits;
  external: readonly ExternalLimit[];
}

/** A plan as a config writes it: every field optional. */
export type VerdictPlanInput = Partial<Omit<VerdictPlan, 'detectableRatio'>> & {
  detectableRatio?: Partial<DetectableRatios>;
};

/** The defaults: α 1 %, power 80 % against a doubling, a 20 % 5xx ceiling, pause when inconclusive. */
export const DEFAULT_PLAN: VerdictPlan = {
  alpha: 0.01,
  beta: 0.2,
  detectableRatio: { errors: 2, latency: 2, failedPayments: 2 },
  errorCeiling: 0.2,
  errorCeilingMinRequests: 20,
  minRequestsPerStep: 50,
  negligibleRate: 0.001,
  latencyFloorMs: 50,
  onInconclusive: 'pause',
  revenue: false,
  external: [],
};

/** Fills a plan's defaults; a value out of range throws a RangeError naming the field and the fix. */
export function verdictPlan(input: VerdictPlanInput = {}): VerdictPlan {
  const plan: VerdictPlan = {
    ...DEFAULT_PLAN,
    ...input,
    detectableRatio: { ...DEFAULT_PLAN.detectableRatio, ...input.detectableRatio },
  };
  const share = (field: string, value: number): void => {
    if (!(value > 0 && value < 1)) {
      throw new RangeError(`${field} is ${value}: a probability between 0 and 1, e.g. 0.01`);
    }
  };
  share('alpha', plan.alpha);
  share('beta', plan.beta);
  share('errorCeiling', plan.errorCeiling);
  if (plan.negligibleRate !== undefined) share('negligibleRate', plan.negligibleRate);
  for (const [name, k] of Object.entries(plan.detectableRatio)) {
    if (!(k > 1)) throw new RangeError(`detectableRatio.${name} is ${k}: above 1, e.g. 2 for a doubling`);
  }
  if (!INCONCLUSIVE_ACTIONS.includes(plan.onInconclusive)) {
    throw new RangeError(
      `onInconclusive is ${String(plan.onInconclusive)}: one of ${INCONCLUSIVE_ACTIONS.join(', ')}`,
    );
  }
  return plan;
}

/**
 * The statistical checks a plan runs, fixed before any data is seen (so sharing α among them is
 * valid): with a baseline, errors and latency, plus failed payments and the checkout stop with revenue.
 */
export function statisticalChecks(plan: VerdictPlan, baseline: boolean): CheckName[] {
  if (!baseline) return [];
  const checks: CheckName[] = [CheckName.Errors, CheckName.Latency];
  if (plan.revenue) checks.push(CheckName.FailedPayments, CheckName.CheckoutStop);
  return checks;
}

/** Each statistical check's false-alarm rate: α shared equally (Bonferroni), so the verdict's holds. */
export function checkAlpha(plan: VerdictPlan, baseline: boolean): number {
  return plan.alpha / Math.max(1, statisticalChecks(plan, baseline).length);
}
