/**
 * A verification window folded one reading at a time: every check's running state, so a verdict
 * needs only the state and the latest reading, never the whole list. `judge({ readings })` is this
 * fold from the first reading; a workflow that reads for hours carries the state instead (across
 * continue-as-new, through `portableWindow`), and its verdicts are the same. Pure data and pure
 * functions: safe in workflow code.
 */
import { foldCheckout, startCheckout, type CheckoutState } from './checkout.js';
import { foldCounts, startCounts, type CountsState } from './compare.js';
import { errorsAt, failedPaymentsAt } from './comparisons.js';
import { increase } from './counts.js';
import { foldLatency, startLatency, type LatencyState } from './latency.js';
import { foldLimits, startLimits, type LimitsState } from './limits.js';
import type { VerdictPlan } from './plan.js';
import type { Reading } from './readings.js';
import { mixtureOf, type Comparison } from './sequential.js';

/**
 * The most readings kept for the 5xx ceiling's trailing span: with thin traffic it looks back over
 * at most this many intervals, however long the window.
 */
export const MAX_RECENT_READINGS = 100;

/** Everything the checks need from a window's readings so far. */
export interface WindowState {
  /** Readings folded in. */
  readings: number;
  /** The first reading, taken as the window's traffic starts. */
  first: Reading;
  latest: Reading;
  /** The latest readings, just enough to span the 5xx ceiling's `errorCeilingMinRequests` (latest last). */
  recent: Reading[];
  /** The canary's requests in the latest reading's step. */
  step: { step: number; requests: number };
  errors: CountsState;
  latency: LatencyState;
  failedPayments: CountsState;
  checkout: CheckoutState;
  limits: LimitsState;
}

/** The window after its first reading. */
export function startWindow(plan: VerdictPlan, first: Reading): WindowState {
  const k = plan.detectableRatio;
  return {
    readings: 1,
    first,
    latest: first,
    recent: [first],
    step: { step: first.step, requests: 0 },
    errors: foldCounts(startCounts(mixtureOf(k.errors)), first, errorsAt),
    latency: foldLatency(startLatency(k.latency), first, plan.latencyFloorMs ?? 0),
    failedPayments: foldCounts(startCounts(mixtureOf(k.failedPayments)), first, failedPaymentsAt),
    checkout: foldCheckout(startCheckout(), first),
    limits: startLimits(),
  };
}

/** The window after one more reading. */
export function addReading(plan: VerdictPlan, state: WindowState, reading: Reading): WindowState {
  const before = state.latest;
  const served = increase(before.canary.requests, reading.canary.requests);
  return {
    readings: state.readings + 1,
    first: state.first,
    latest: reading,
    recent: trailing([...state.recent, reading], plan.errorCeilingMinRequests),
    step:
      reading.step === state.step.step
        ? { step: reading.step, requests: state.step.requests + served }
        : { step: reading.step, requests: served },
    errors: foldCounts(state.errors, reading, errorsAt),
    latency: foldLatency(state.latency, reading, plan.latencyFloorMs ?? 0),
    failedPayments: foldCounts(state.failedPayments, reading, failedPaymentsAt),
    checkout: foldCheckout(state.checkout, reading),
    limits: plan.limits ? foldLimits(state.limits, before, reading, plan.limits) : state.limits,
  };
}

/** The window over `readings` (oldest first). Throws a RangeError without a reading. */
export function windowOf(plan: VerdictPlan, readings: readonly Reading[]): WindowState {
  const [first, ...rest] = readings;
  if (!first) throw new RangeError('a window needs at least one reading: the one taken as traffic starts');
  return rest.reduce((state, reading) => addReading(plan, state, reading), startWindow(plan, first));
}

/** The shortest tail of `readings` whose intervals hold at least `minRequests` canary requests (at most MAX_RECENT_READINGS). */
function trailing(readings: Reading[], minRequests: number): Reading[] {
  let start = Math.max(0, readings.length - MAX_RECENT_READINGS);
  let requests = 0;
  for (let i = readings.length - 1; i > start; i--) {
    requests += increase(readings[i - 1]!.canary.requests, readings[i]!.canary.requests);
    if (requests >= minRequests) {
      start = i - 1;
      break;
    }
  }
  return readings.slice(start);
}

/**
 * The state as JSON carries it: a likelihood ratio that the data excluded is −Infinity, which JSON
 * would turn into null (and a resumed test into a fresh one), so it travels as null and comes back
 * with `restoreWindow`.
 */
export type PortableWindow = Omit<WindowState, 'errors' | 'latency' | 'failedPayments' | 'checkout'> & {
  errors: PortableCounts;
  latency: Omit<LatencyState, 'counts'> & { counts: PortableCounts };
  failedPayments: PortableCounts;
  checkout: Omit<CheckoutState, 'counts'> & { counts: PortableCounts };
};
type PortableCounts = Omit<CountsState, 'comparison'> & {
  comparison: Omit<Comparison, 'logLr'> & { logLr: (number | null)[] };
};

/** The state ready for a workflow's payloads (see PortableWindow). */
export function portableWindow(state: WindowState): PortableWindow {
  const out = (c: CountsState): PortableCounts => ({
    ...c,
    comparison: { ...c.comparison, logLr: c.comparison.logLr.map((v) => (v === -Infinity ? null : v)) },
  });
  return {
    ...state,
    errors: out(state.errors),
    latency: { ...state.latency, counts: out(state.latency.counts) },
    failedPayments: out(state.failedPayments),
    checkout: { ...state.checkout, counts: out(state.checkout.counts) },
  };
}

/** The state back from a payload. */
export function restoreWindow(portable: PortableWindow): WindowState {
  const back = (c: PortableCounts): CountsState => ({
    ...c,
    comparison: { ...c.comparison, logLr: c.comparison.logLr.map((v) => v ?? -Infinity) },
  });
  return {
    ...portable,
    errors: back(portable.errors),
    latency: { ...portable.latency, counts: back(portable.latency.counts) },
    failedPayments: back(portable.failedPayments),
    checkout: { ...portable.checkout, counts: back(portable.checkout.counts) },
  };
}
