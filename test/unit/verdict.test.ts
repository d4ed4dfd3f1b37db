/**
 * Verification verdicts from hand-made cumulative counts: A/A does not fail, a 5× error rise and a
 * checkout stop do, a first release is judged on absolute limits, an unreadable signal is not a fail,
 * pass waits for the minimum evidence, steps change the weight, and the Argo-style limits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CheckName,
  DEFAULT_LATENCY_BOUNDS_MS,
  Outcome,
  Reason,
  judge,
  verdictPlan,
  type CheckVerdict,
  type ExternalReading,
  type Reading,
  type ReleaseCounters,
  type RevenueCounters,
  type SequentialEvidence,
  type Verdict,
  type VerdictPlanInput,
} from '../../src/verification/index.js';

/** One release's traffic in one interval. Fast requests land in the 100 ms bucket, slow ones in the 500 ms one. */
interface Traffic {
  requests: number;
  errors?: number;
  slow?: number;
  attempts?: number;
  failed?: number;
  revenue?: number;
  healthy?: boolean;
}

/** One interval of a hand-made window. */
interface Interval {
  weight: number;
  step?: number;
  canary: Traffic;
  /** Omitted: the same as the last interval's stable traffic. */
  stable?: Traffic;
  external?: ExternalReading[];
  /** The app's revenue counters could not be read at this interval's end. */
  revenueUnread?: boolean;
}

const FAST = DEFAULT_LATENCY_BOUNDS_MS.indexOf(100);
const SLOW = DEFAULT_LATENCY_BOUNDS_MS.indexOf(500);
/** The stable release's life before the window: 2 % slow, so its p95 bucket bound is 100 ms. */
const HISTORY: Traffic = { requests: 1000, errors: 5, slow: 20, attempts: 20, failed: 1, revenue: 19 };
const NOTHING: ReleaseCounters = {
  requests: 0,
  errors: 0,
  healthy: true,
  latency: { boundsMs: DEFAULT_LATENCY_BOUNDS_MS, counts: DEFAULT_LATENCY_BOUNDS_MS.map(() => 0).concat(0) },
  revenue: { paymentAttempts: 0, failedPayments: 0, revenueEvents: 0 },
};

function grow(before: ReleaseCounters, t: Traffic): ReleaseCounters {
  const slow = t.slow ?? 0;
  const revenue = before.revenue as RevenueCounters;
  return {
    requests: before.requests + t.requests,
    errors: before.errors + (t.errors ?? 0),
    healthy: t.healthy ?? true,
    latency: {
      boundsMs: DEFAULT_LATENCY_BOUNDS_MS,
      counts: before.latency.counts.map(
        (c, i) => c + (i === FAST ? t.requests - slow : i === SLOW ? slow : 0),
      ),
    },
    revenue: {
      paymentAttempts: revenue.paymentAttempts + (t.attempts ?? 0),
      failedPayments: revenue.failedPayments + (t.failed ?? 0),
      revenueEvents: revenue.revenueEvents + (t.revenue ?? 0),
    },
  };
}

/** The cumulative readings of a window: the one taken as traffic starts, then one per interval. */
function windowOf(intervals: Interval[], options: { baseline?: boolean; revenue?: boolean } = {}): Reading[] {
  const { baseline = true, revenue = false } = options;
  const shown = (c: ReleaseCounters, unread?: boolean): ReleaseCounters => {
    const { revenue: counters, ...rest } = c;
    return revenue ? { ...rest, revenue: unread ? null : counters } : rest;
  };
  let canary = NOTHING;
  let stable = grow(NOTHING, HISTORY);
  let stableTraffic: Traffic = { requests: 0 };
  const reading = (i: Interval, unread?: boolean): Reading => ({
    step: i.step ?? 0,
    weight: i.weight,
    canary: shown(canary, unread),
    ...(baseline ? { stable: shown(stable, unread) } : {}),
    ...(i.external ? { external: i.external } : {}),
  });
  const readings = [reading(intervals[0] ?? { weight: 0, canary: { requests: 0 } })];
  for (const i of intervals) {
    stableTraffic = i.stable ?? stableTraffic;
    canary = grow(canary, i.canary);
    stable = grow(stable, stableTraffic);
    readings.push(reading(i, i.revenueUnread));
  }
  return readings;
}

const repeat = <T>(n: number, item: T): T[] => Array.from({ length: n }, () => item);
const checkOf = (v: Verdict, name: CheckName): CheckVerdict => {
  const found = v.checks.find((c) => c.check === name);
  assert.ok(found, `no ${name} check in ${v.checks.map((c) => c.check).join(', ')}`);
  return found;
};
const sequential = (v: Verdict, name: CheckName): SequentialEvidence => {
  const e = checkOf(v, name).evidence;
  assert.equal(e.kind, 'sequential');
  return e;
};
/** Every verdict of a window, one per reading after the first. */
const verdicts = (readings: Reading[], plan: VerdictPlanInput = {}): Verdict[] =>
  readings.slice(1).map((_, i) => judge({ plan: verdictPlan(plan), readings: readings.slice(0, i + 2) }));

// At 25 %: the canary and the stable release with the same 0.4 % 5xx and 2 % slow requests.
const AA: Interval = {
  weight: 25,
  canary: { requests: 250, errors: 1, slow: 5, attempts: 5, revenue: 5 },
  stable: { requests: 750, errors: 3, slow: 15, attempts: 15, revenue: 15 },
};

describe('verdict: canary against the stable release', () => {
  it('A/A data never fails and passes once the evidence is in', () => {
    const all = verdicts(windowOf(repeat(12, AA)));
    assert.ok(all.every((v) => v.outcome !== Outcome.Fail));
    const last = all.at(-1)!;
    assert.equal(last.outcome, Outcome.Pass, last.detail);
    assert.equal(last.reason, Reason.EvidenceSufficient);
    assert.equal(last.action, 'advance');
    assert.equal(last.baseline, 'stable');
    const errors = sequential(last, CheckName.Errors);
    assert.ok(errors.passLogLikelihoodRatio <= errors.passThreshold);
    assert.equal(errors.alpha, 0.01 / 2, 'α shared by the errors and latency checks');
    assert.deepEqual(errors.canary, { exposure: 3000, events: 12 });
  });

  it('a 5× rise in 5xx fails with its reason and evidence', () => {
    const rise: Interval = { ...AA, canary: { requests: 250, errors: 5, slow: 5 } };
    const all = verdicts(windowOf(repeat(5, rise)));
    const failed = all.findIndex((v) => v.outcome === Outcome.Fail);
    assert.ok(failed > 0 && failed <= 2, `fails at interval ${failed + 1}, not the first, within three`);
    const v = all[failed]!;
    assert.deepEqual([v.reason, v.decidedBy, v.action], [Reason.ErrorRise, CheckName.Errors, 'rollback']);
    const e = sequential(v, CheckName.Errors);
    assert.ok(e.logLikelihoodRatio >= e.failThreshold);
    assert.ok(Math.abs(e.failThreshold - Math.log(200)) < 1e-9, 'ln(1 / α), α = 1 % / 2');
    assert.equal(e.k, 2);
    assert.deepEqual(e.canary, { exposure: 250 * (failed + 1), events: 5 * (failed + 1) });
    assert.match(v.detail, /^5xx rose: canary \d+ of \d+ \(2\.00 %\) vs stable/);
  });

  it('slow requests above the stable p95 bucket fail as a latency rise', () => {
    const slow: Interval = { ...AA, canary: { requests: 250, errors: 1, slow: 40 } };
    const v = verdicts(windowOf(repeat(3, slow))).find((x) => x.outcome === Outcome.Fail);
    assert.ok(v);
    assert.equal(v.reason, Reason.LatencyRise);
    assert.equal(sequential(v, CheckName.Latency).slowAboveMs, 100);
  });

  it('latency without a finite p95 bound is inconclusive; different buckets are unavailable', () => {
    const readings = windowOf(repeat(3, AA));
    const allSlow = readings.map((r) => {
      const total = r.stable!.latency.counts.reduce((a, b) => a + b, 0);
      const counts = r.stable!.latency.counts.map((_, i, all) => (i === all.length - 1 ? total : 0));
      return { ...r, stable: { ...r.stable!, latency: { ...r.stable!.latency, counts } } };
    });
    const unbounded = checkOf(judge({ plan: verdictPlan(), readings: allSlow }), CheckName.Latency);
    assert.deepEqual([unbounded.outcome, unbounded.reason], [Outcome.Inconclusive, Reason.NoLatencyBound]);
    const last = readings.at(-1)!;
    const coarse = { boundsMs: [100, 1000], counts: [0, 0, 0] };
    const mixed = [...readings.slice(0, -1), { ...last, canary: { ...last.canary, latency: coarse } }];
    const latency = checkOf(judge({ plan: verdictPlan(), readings: mixed }), CheckName.Latency);
    assert.deepEqual([latency.outcome, latency.reason], [Outcome.Unavailable, Reason.InconsistentHistograms]);
  });

  it('a checkout stop fails at once, ahead of the other checks', () => {
    const stop: Interval = {
      weight: 25,
      canary: { requests: 250, errors: 1, slow: 5, attempts: 5, failed: 5, revenue: 0 },
      stable: { requests: 750, errors: 3, slow: 15, attempts: 40, failed: 2, revenue: 38 },
    };
    const [v] = verdicts(windowOf([stop], { revenue: true }), { revenue: true });
    assert.ok(v);
    assert.deepEqual(
      [v.outcome, v.reason, v.decidedBy],
      [Outcome.Fail, Reason.CheckoutStop, CheckName.CheckoutStop],
    );
    const e = checkOf(v, CheckName.CheckoutStop).evidence;
    assert.equal(e.kind, 'checkout-stop');
    assert.equal(e.expectedCanaryEvents, 0.25 * 38);
    assert.ok(
      Math.abs(e.logLikelihoodRatio! + 38 * Math.log(0.75)) < 1e-9,
      'ln 1 / P(none of 38 | share 25 %)',
    );
    assert.equal(e.alpha, 0.01 / 4, 'α shared by errors, latency, failed payments and the stop');
    assert.match(
      v.detail,
      /^checkout stopped: no revenue from the canary where the stable's rate predicts 9\.5/,
    );
  });

  it('one canary revenue event and the checkout stop passes', () => {
    const [v] = verdicts(windowOf([AA], { revenue: true }), { revenue: true });
    const stop = checkOf(v!, CheckName.CheckoutStop);
    assert.deepEqual([stop.outcome, stop.reason], [Outcome.Pass, Reason.RevenueSeen]);
    assert.equal(stop.evidence.kind === 'checkout-stop' && stop.evidence.logLikelihoodRatio, null);
  });

  it('a canary that is down fails at once; a stable release that is down keeps the verdict from passing', () => {
    const down = verdicts(windowOf([...repeat(12, AA), { ...AA, canary: { ...AA.canary, healthy: false } }]));
    assert.deepEqual([down.at(-1)!.outcome, down.at(-1)!.reason], [Outcome.Fail, Reason.CanaryDown]);
    const stableDown = verdicts(
      windowOf([...repeat(12, AA), { ...AA, stable: { ...AA.stable!, healthy: false } }]),
    );
    assert.deepEqual(
      [stableDown.at(-1)!.outcome, stableDown.at(-1)!.reason],
      [Outcome.Inconclusive, Reason.StableDown],
    );
  });

  it('5xx above the hard ceiling over the latest requests fails at once, however good the start', () => {
    const broken: Interval = { ...AA, canary: { requests: 30, errors: 12 } };
    const v = verdicts(windowOf([...repeat(12, AA), broken])).at(-1)!;
    assert.deepEqual([v.outcome, v.reason], [Outcome.Fail, Reason.ErrorCeiling]);
    assert.deepEqual(checkOf(v, CheckName.ErrorCeiling).evidence, {
      kind: 'ceiling',
      requests: 30,
      errors: 12,
      ceiling: 0.2,
      minRequests: 20,
    });
  });
});

describe('verdict: evidence, steps and defaults', () => {
  it('stays inconclusive until the minimum evidence, saying how much is missing', () => {
    const thin: Interval = {
      weight: 25,
      canary: { requests: 25, errors: 0, slow: 1 },
      stable: { requests: 75, errors: 0, slow: 1 },
    };
    const readings = windowOf([...repeat(3, thin), ...repeat(12, AA)]);
    const early = judge({ plan: verdictPlan(), readings: readings.slice(0, 4) });
    assert.equal(early.outcome, Outcome.Inconclusive);
    assert.equal(early.reason, Reason.InsufficientEvidence);
    assert.equal(early.action, 'continue');
    const e = sequential(early, CheckName.Errors);
    assert.deepEqual([e.canary.events, e.stable.events, e.intervals], [0, 0, 0]);
    assert.ok(
      e.minimumEvents! > 30 && e.minimumEvents! < 40,
      `${e.minimumEvents} events at 25 %, α 1 %, β 20 %, k 2`,
    );
    assert.ok(Math.abs(e.missingEvents! - e.minimumEvents!) < 1e-9, 'nothing seen: all of it is missing');
    assert.ok(e.missingExposure! > 5000, 'the stable release has 0.5 % 5xx: thousands of requests');
    assert.match(
      early.detail,
      /^5xx: not enough evidence yet, about \d+ more 5xx in both releases \(≈ [\d ]+ requests\) at 25 %/,
    );
    const later = judge({ plan: verdictPlan(), readings: readings.slice(0, 8) });
    assert.ok(sequential(later, CheckName.Errors).missingEvents! < e.missingEvents!);
    assert.equal(judge({ plan: verdictPlan(), readings }).outcome, Outcome.Pass);
  });

  it('an inconclusive end takes the plan default', () => {
    const readings = windowOf(repeat(2, AA));
    for (const onInconclusive of ['extend', 'rollback', 'pause'] as const) {
      const v = judge({ plan: verdictPlan({ onInconclusive }), readings, windowEnded: true });
      assert.deepEqual([v.outcome, v.action], [Outcome.Inconclusive, onInconclusive]);
    }
  });

  it('the weight changes between steps: each interval is judged at its own split', () => {
    // Both releases at 1 % 5xx during the 5 % step and 3 % during the 50 % step (a shift that hits all
    // traffic). Per interval there is no change; pooled, the canary would look 1.7× worse, because
    // more of its requests fell in the worse period.
    const five: Interval = {
      weight: 5,
      step: 0,
      canary: { requests: 100, errors: 1 },
      stable: { requests: 1900, errors: 19 },
    };
    const half: Interval = {
      weight: 50,
      step: 1,
      canary: { requests: 1000, errors: 30 },
      stable: { requests: 1000, errors: 30 },
    };
    const v = judge({ plan: verdictPlan(), readings: windowOf([five, five, half]) });
    const e = sequential(v, CheckName.Errors);
    const byHand = 2 * (Math.log(2) - 20 * Math.log1p(0.05)) + (30 * Math.log(2) - 60 * Math.log1p(0.5));
    assert.ok(Math.abs(e.passLogLikelihoodRatio - byHand) < 1e-9, `${e.passLogLikelihoodRatio} vs ${byHand}`);
    const pooled = 31 * Math.log(2) - 80 * Math.log1p(1100 / 4000);
    assert.ok(byHand < -4 && pooled > 2, 'pooling across weights would have seen a rise');
    assert.deepEqual([v.step, v.weight, v.stepRequests], [1, 50, 1000]);
    const fresh = judge({
      plan: verdictPlan({ minRequestsPerStep: 5000 }),
      readings: windowOf([...repeat(12, AA), { ...AA, step: 1 }]),
    });
    assert.deepEqual(
      [fresh.outcome, fresh.reason, fresh.stepRequests],
      [Outcome.Inconclusive, Reason.StepExposure, 250],
    );
  });

  it('a first release has no baseline: absolute limits only, and it says so', () => {
    const first: Interval = { weight: 100, canary: { requests: 30, errors: 0 } };
    const thin = judge({ plan: verdictPlan(), readings: windowOf([first], { baseline: false }) });
    assert.equal(thin.baseline, 'none');
    assert.deepEqual(
      thin.checks.map((c) => c.check),
      [CheckName.Health, CheckName.ErrorCeiling],
    );
    assert.deepEqual([thin.outcome, thin.reason], [Outcome.Inconclusive, Reason.StepExposure]);
    assert.match(thin.detail, /^no baseline \(first release\), judged on absolute limits only: /);
    const v = judge({ plan: verdictPlan(), readings: windowOf([first, first], { baseline: false }) });
    assert.deepEqual([v.outcome, v.reason], [Outcome.Pass, Reason.NoBaselineWithinLimits]);
    assert.doesNotMatch(JSON.stringify(v), /baseline unhealthy/);
    const broken = judge({
      plan: verdictPlan(),
      readings: windowOf([first, { ...first, canary: { requests: 30, errors: 9 } }], { baseline: false }),
    });
    assert.deepEqual(
      [broken.outcome, broken.reason, broken.baseline],
      [Outcome.Fail, Reason.ErrorCeiling, 'none'],
    );
  });

  it('an external signal that cannot be read is unavailable, never a fail', () => {
    const external = [{ name: 'checkout-p99', max: 800 }];
    const down: ExternalReading[] = [
      { name: 'checkout-p99', unavailable: 'connect ECONNREFUSED 127.0.0.1:9090' },
    ];
    const v = judge({
      plan: verdictPlan({ external }),
      readings: windowOf([...repeat(12, AA), { ...AA, external: down }]),
    });
    assert.deepEqual(
      [v.outcome, v.action, v.reason],
      [Outcome.Unavailable, 'wait', Reason.EvidenceUnavailable],
    );
    assert.match(v.detail, /ECONNREFUSED/);
    const high: ExternalReading[] = [{ name: 'checkout-p99', value: 950 }];
    const breach = judge({
      plan: verdictPlan({ external }),
      readings: windowOf([{ ...AA, external: high }]),
    });
    assert.deepEqual([breach.outcome, breach.reason], [Outcome.Fail, Reason.ExternalBreach]);
  });

  it('unreadable revenue counters leave their checks unavailable, and the next reading covers the gap', () => {
    const plan = { revenue: true };
    const readings = windowOf([AA, { ...AA, revenueUnread: true }], plan);
    const v = judge({ plan: verdictPlan(plan), readings });
    assert.equal(v.outcome, Outcome.Unavailable);
    assert.deepEqual(
      v.checks.filter((c) => c.outcome === Outcome.Unavailable).map((c) => c.check),
      [CheckName.CheckoutStop, CheckName.FailedPayments],
    );
    const after = judge({
      plan: verdictPlan(plan),
      readings: windowOf([AA, { ...AA, revenueUnread: true }, AA], plan),
    });
    assert.deepEqual(sequential(after, CheckName.FailedPayments).canary, { exposure: 15, events: 0 });
  });

  it('a counter that went down restarted from zero', () => {
    const readings = windowOf(repeat(2, AA));
    const restarted: Reading = {
      ...readings[2]!,
      canary: { ...readings[2]!.canary, requests: 100, errors: 1 },
    };
    const v = judge({ plan: verdictPlan(), readings: [...readings, restarted] });
    assert.deepEqual(sequential(v, CheckName.Errors).canary, { exposure: 600, events: 3 });
  });

  it('a verdict survives JSON unchanged (workflow history)', () => {
    for (const readings of [
      windowOf(repeat(3, AA), { revenue: true }),
      windowOf([AA], { baseline: false }),
    ]) {
      const v = judge({ plan: verdictPlan({ revenue: true, limits: { maxErrorRate: 0.05 } }), readings });
      assert.deepEqual(JSON.parse(JSON.stringify(v)), v);
    }
  });
});

describe('verdict: Argo-style plain limits', () => {
  const bad: Interval = { ...AA, canary: { requests: 250, errors: 15 } }; // 6 %: above 5 %, below the ceiling
  const limitsOf = (readings: Reading[], limits: VerdictPlanInput['limits']): CheckVerdict =>
    checkOf(judge({ plan: verdictPlan({ limits }), readings }), CheckName.Limits);

  it('failureLimit: more failed measurements than the limit fail (0: the first)', () => {
    const first = limitsOf(windowOf([AA, bad]), { maxErrorRate: 0.05 });
    assert.deepEqual([first.outcome, first.reason], [Outcome.Fail, Reason.LimitFailures]);
    const one = limitsOf(windowOf([bad, AA, AA]), { maxErrorRate: 0.05, failureLimit: 1 });
    assert.equal(one.outcome, Outcome.Pass);
    const two = limitsOf(windowOf([bad, AA, bad]), { maxErrorRate: 0.05, failureLimit: 1 });
    assert.deepEqual([two.outcome, two.reason], [Outcome.Fail, Reason.LimitFailures]);
  });

  it('consecutiveFailureLimit: that many failed measurements in a row fail', () => {
    const apart = limitsOf(windowOf([bad, AA, bad, AA]), { maxErrorRate: 0.05, consecutiveFailureLimit: 2 });
    assert.equal(apart.outcome, Outcome.Pass);
    const inARow = limitsOf(windowOf([AA, bad, bad]), { maxErrorRate: 0.05, consecutiveFailureLimit: 2 });
    assert.deepEqual([inARow.outcome, inARow.reason], [Outcome.Fail, Reason.LimitConsecutive]);
  });

  it('a measurement gathers intervals until it has its minimum requests; p95 as histogram_quantile reads it', () => {
    const trickle: Interval = { weight: 5, canary: { requests: 5, slow: 1 }, stable: { requests: 95 } };
    const check = limitsOf(windowOf(repeat(9, trickle)), { maxP95LatencyMs: 1000 });
    assert.equal(check.evidence.kind, 'limits');
    const e = check.evidence.kind === 'limits' ? check.evidence : undefined;
    assert.equal(e?.measurements, 2, '45 requests: two measurements of 20, 5 left over');
    // 4 of 20 in (250, 500]: the 95th percentile sits at 250 + 250 × (19 − 16) / 4.
    assert.equal(e?.last?.p95LatencyMs, 437.5);
    assert.equal(check.outcome, Outcome.Pass);
  });
});
