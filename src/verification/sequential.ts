/**
 * The anytime-valid sequential comparison of one count between the canary and the stable release.
 *
 * What is tested. In interval i the canary served n_c units of exposure (requests, or payment
 * attempts) and the stable release n_s; together they had m events (5xx, slow requests, failed
 * payments), x of them on the canary. Condition on n_c, n_s and m. If a unit has the same chance of
 * an event whichever release served it (H0: no change), each of the m events is the canary's with
 * p0 = n_c / (n_c + n_s), so x ~ Binomial(m, p0). If the canary's rate is k times the stable's (H1),
 * p1 = k n_c / (k n_c + n_s), and the interval's likelihood ratio simplifies to
 *
 *     LR_i(k) = (p1/p0)^x ((1-p1)/(1-p0))^(m-x) = k^x / (1 + (k-1) p0)^m.
 *
 * Why looking after every interval keeps α. Under H0, E[LR_i(k) | the past, n_c, n_s, m] = 1 (the
 * binomial's generating function), so the running product is a nonnegative martingale that starts
 * at 1, whatever p0 each interval had: the weight may change between steps, and p0 comes from the
 * requests each release actually served. By Ville's inequality, P(the product ever reaches 1/α) ≤ α,
 * for every look at once. A canary better than the stable makes x smaller and LR_i grows with x
 * (k > 1), so its expectation is ≤ 1: a supermartingale, the same bound.
 *
 * Conditioning on m is what makes it robust: whatever hits both releases at once (a database blip, a
 * traffic surge, a slow dependency) changes m, not the canary's share of it. It assumes the split is
 * blind to outcomes (routing by customer hash is), that each event is counted in the interval of the
 * request that caused it, and that events are independent given the split. Sticky routing strains
 * the last: one customer whose requests fail on any release (a malformed payload) puts a cluster of
 * events on one side, which reads as a change.
 *
 * The binomial treats events as Poisson. Where each unit is one trial instead (a request errors or
 * not), x given m is hypergeometric, which is less spread than the binomial; k^x is convex in x, so
 * by Hoeffding (1963, theorem 4) E[LR_i] ≤ 1 still: valid, slightly conservative when events are
 * common. Intervals where either release had no exposure, or nothing happened, carry no evidence.
 *
 * Fail: a mixture over k (`mixtureOf`), so that large changes are caught in a few events while a
 * change of exactly k costs ln 2 of extra evidence; a mixture of martingales is a martingale.
 * Pass: the ratio at the detectable k alone. Under a canary k× worse or more, 1 / LR(k) is a
 * supermartingale (the same argument, reversed), so P(LR(k) ever ≤ β) ≤ β: β bounds the chance of
 * passing a canary that is k× worse, however often we look (exactly for Poisson events; for
 * per-request trials as long as events are rare).
 */
import type { IntervalCounts } from './counts.js';
import type { Counts } from './outcomes.js';

/** One alternative of a mixture: the canary's rate `ratio`× the stable's, with its prior weight. */
export interface Alternative {
  ratio: number;
  weight: number;
}

/**
 * The fail mixture for a detectable ratio k: k, 2k, 4k and 8k weighted 1/2, 1/4, 1/8, 1/8. Half the
 * weight on k itself keeps the detection of a change of exactly k close to a test at k alone.
 */
export function mixtureOf(k: number): Alternative[] {
  return [
    { ratio: k, weight: 1 / 2 },
    { ratio: 2 * k, weight: 1 / 4 },
    { ratio: 4 * k, weight: 1 / 8 },
    { ratio: 8 * k, weight: 1 / 8 },
  ];
}

/** A comparison's state after some intervals. Pure data: a workflow can carry it across continue-as-new. */
export interface Comparison {
  alternatives: Alternative[];
  /** ln of the running likelihood ratio per alternative (−Infinity where the data excluded it). */
  logLr: number[];
  canary: Counts;
  stable: Counts;
  /** Intervals that carried evidence. */
  intervals: number;
}

/** A comparison before any interval. */
export function startComparison(alternatives: Alternative[]): Comparison {
  const zero = { exposure: 0, events: 0 };
  return { alternatives, logLr: alternatives.map(() => 0), canary: zero, stable: zero, intervals: 0 };
}

/** The canary's share p0 of an interval's exposure, or null when the interval carries no evidence. */
export function nullShare(interval: IntervalCounts): number | null {
  const { canary, stable } = interval;
  const events = canary.events + stable.events;
  if (canary.exposure <= 0 || stable.exposure <= 0 || events === 0) return null;
  return canary.exposure / (canary.exposure + stable.exposure);
}

/** ln LR_i(k) = x ln k − m ln(1 + (k − 1) p0) for one interval; 0 where it carries no evidence. */
export function intervalLogLr(interval: IntervalCounts, ratio: number): number {
  const p0 = nullShare(interval);
  if (p0 === null) return 0;
  const x = interval.canary.events;
  const m = x + interval.stable.events;
  const onCanary = x === 0 ? 0 : x * Math.log(ratio); // ratio 0 (a stop) and x > 0: −Infinity
  return onCanary - m * Math.log1p((ratio - 1) * p0);
}

/** The comparison after one more interval. */
export function addInterval(comparison: Comparison, interval: IntervalCounts): Comparison {
  const add = (a: Counts, b: Counts): Counts => ({
    exposure: a.exposure + b.exposure,
    events: a.events + b.events,
  });
  return {
    alternatives: comparison.alternatives,
    logLr: comparison.alternatives.map(
      (alt, j) => (comparison.logLr[j] ?? 0) + intervalLogLr(interval, alt.ratio),
    ),
    canary: add(comparison.canary, interval.canary),
    stable: add(comparison.stable, interval.stable),
    intervals: comparison.intervals + (nullShare(interval) === null ? 0 : 1),
  };
}

/** ln of the mixture Σ w_j LR(k_j): the fail statistic (−Infinity when every alternative is excluded). */
export function mixtureLogLr(comparison: Comparison): number {
  const terms = comparison.alternatives.map((alt, j) => Math.log(alt.weight) + (comparison.logLr[j] ?? 0));
  const top = Math.max(...terms);
  if (top === -Infinity) return top;
  return top + Math.log(terms.reduce((sum, t) => sum + Math.exp(t - top), 0));
}
