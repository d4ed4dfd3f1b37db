/**
 * The statistics under the verdicts, checked exactly on small cases: the likelihood ratio is a
 * martingale under "no change" (E[LR_next | past] = LR_now, summed over every binomial outcome), a
 * supermartingale for a better canary and for per-request trials, and the power figures agree with
 * the divergences they come from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addInterval,
  alternativeShare,
  bernoulliKl,
  driftPerEvent,
  eventsToFail,
  eventsToPass,
  forecast,
  mixtureLogLr,
  mixtureOf,
  startComparison,
  type Comparison,
  type IntervalCounts,
} from '../../src/verification/index.js';

/** P(X = x) for X ~ Binomial(m, p), x = 0..m. */
function binomial(m: number, p: number): number[] {
  const pmf = [Math.pow(1 - p, m)];
  for (let x = 1; x <= m; x++) pmf.push((pmf[x - 1]! * (m - x + 1) * p) / (x * (1 - p)));
  return pmf;
}

const logChoose = (n: number, k: number): number => {
  let sum = 0;
  for (let i = 1; i <= k; i++) sum += Math.log((n - k + i) / i);
  return sum;
};

/** P(X = x): m events among nc + ns trials, all alike, x of them on the canary's nc. */
function hypergeometric(nc: number, ns: number, m: number): number[] {
  return Array.from({ length: m + 1 }, (_, x) =>
    x > nc || m - x > ns ? 0 : Math.exp(logChoose(nc, x) + logChoose(ns, m - x) - logChoose(nc + ns, m)),
  );
}

const interval = (nc: number, ns: number, m: number, x: number): IntervalCounts => ({
  canary: { exposure: nc, events: x },
  stable: { exposure: ns, events: m - x },
});

/** E[f(the comparison after one more interval)] when the canary's count is drawn from `pmf`. */
function expectation(
  state: Comparison,
  split: { nc: number; ns: number; m: number },
  pmf: number[],
  f: (c: Comparison) => number,
): number {
  return pmf.reduce(
    (sum, p, x) => sum + p * f(addInterval(state, interval(split.nc, split.ns, split.m, x))),
    0,
  );
}

/** A comparison with some history: a few intervals at other weights, one of them bad for the canary. */
function history(k: number, alternatives = mixtureOf(k)): Comparison {
  return [interval(50, 950, 6, 1), interval(250, 750, 9, 4), interval(500, 500, 3, 1)].reduce(
    addInterval,
    startComparison(alternatives),
  );
}

const SPLITS = [
  { nc: 50, ns: 950, m: 12 },
  { nc: 250, ns: 750, m: 7 },
  { nc: 600, ns: 400, m: 25 },
];
const close = (a: number, b: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const mixture = (c: Comparison): number => Math.exp(mixtureLogLr(c));

describe('sequential test: a martingale under no change', () => {
  it('E[mixture LR after the next interval | past] = the mixture LR now, whatever the split', () => {
    for (const k of [2, 3]) {
      const state = history(k);
      for (const split of SPLITS) {
        const p0 = split.nc / (split.nc + split.ns);
        close(expectation(state, split, binomial(split.m, p0), mixture), mixture(state), `k ${k}, p0 ${p0}`);
      }
    }
  });

  it('each alternative on its own, and the checkout stop (rate 0), are martingales too', () => {
    for (const alternatives of [[{ ratio: 2, weight: 1 }], [{ ratio: 0, weight: 1 }]]) {
      const state = startComparison(alternatives);
      for (const split of SPLITS) {
        const p0 = split.nc / (split.nc + split.ns);
        close(
          expectation(state, split, binomial(split.m, p0), mixture),
          1,
          `ratio ${alternatives[0]!.ratio}`,
        );
      }
    }
  });

  it('a canary better than the stable, or per-request trials, give a supermartingale: α still holds', () => {
    const state = history(2);
    for (const split of SPLITS) {
      const p0 = split.nc / (split.nc + split.ns);
      const better = expectation(state, split, binomial(split.m, p0 / 2), mixture);
      assert.ok(better < mixture(state), `better canary at p0 ${p0}`);
      // Each request errs or not: the canary's count given m is hypergeometric (Hoeffding: E ≤ binomial's).
      const trials = expectation(state, split, hypergeometric(split.nc, split.ns, split.m), mixture);
      assert.ok(trials <= mixture(state) * (1 + 1e-12), `per-request trials at p0 ${p0}`);
    }
  });

  it('under a k× worse canary, 1 / LR(k) is a martingale: β bounds a wrong pass', () => {
    const state = history(2, [{ ratio: 2, weight: 1 }]);
    const inverse = (c: Comparison): number => Math.exp(-(c.logLr[0] ?? 0));
    for (const split of SPLITS) {
      const p1 = alternativeShare(split.nc / (split.nc + split.ns), 2);
      close(expectation(state, split, binomial(split.m, p1), inverse), inverse(state), `p1 ${p1}`);
    }
  });

  it('intervals without exposure on one side, or without events, carry no evidence', () => {
    const state = history(2);
    for (const empty of [interval(0, 100, 3, 0), interval(100, 0, 3, 3), interval(100, 100, 0, 0)]) {
      const next = addInterval(state, empty);
      assert.deepEqual([next.logLr, next.intervals], [state.logLr, state.intervals]);
    }
  });

  it('the mixture weights sum to 1 and start at k', () => {
    const alternatives = mixtureOf(2);
    assert.equal(
      alternatives.reduce((s, a) => s + a.weight, 0),
      1,
    );
    assert.deepEqual(
      alternatives.map((a) => a.ratio),
      [2, 4, 8, 16],
    );
  });
});

describe('power: minimum evidence and expected sample sizes', () => {
  it('the drift per event is the divergence between the shares', () => {
    for (const share of [0.05, 0.25, 0.5]) {
      const p1 = alternativeShare(share, 2);
      close(-driftPerEvent(share, 2, 1), bernoulliKl(share, p1), 'no change');
      close(driftPerEvent(share, 2, 2), bernoulliKl(p1, share), 'k× worse');
    }
  });

  it('minimum events: ln(1/β) / KL at the share; none accrue at 0 % or 100 %', () => {
    const at25 = eventsToPass({ share: 0.25, k: 2, beta: 0.2 })!;
    close(at25, Math.log(5) / bernoulliKl(0.25, 0.4), 'share 25 %');
    assert.ok(eventsToPass({ share: 0.05, k: 2, beta: 0.2 })! > 3 * at25, 'a 5 % canary needs far more');
    assert.equal(eventsToPass({ share: 1, k: 2, beta: 0.2 }), null);
    close(eventsToFail({ share: 0.25, k: 2, alpha: 0.005 })!, Math.log(400) / bernoulliKl(0.4, 0.25), 'fail');
  });

  it('a one-step schedule forecasts the same as the per-event figures', () => {
    const rate = 0.005;
    const f = forecast({ steps: [{ weight: 25, requests: 1e9 }], rate, k: 2, alpha: 0.005, beta: 0.2 });
    close(f.pass!.requests, eventsToPass({ share: 0.25, k: 2, beta: 0.2 })! / rate, 'pass');
    assert.ok(f.fail!.requests <= eventsToFail({ share: 0.25, k: 2, alpha: 0.005 })! / (rate * 1.25) + 1e-6);
    close(f.fail!.canaryRequests, 0.25 * f.fail!.requests, 'canary share');
    const short = forecast({ steps: [{ weight: 5, requests: 1000 }], rate, k: 2, alpha: 0.005, beta: 0.2 });
    assert.deepEqual(short, { pass: null, fail: null });
  });
});
