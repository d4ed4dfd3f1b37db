/**
 * A window carried across continue-as-new judges exactly as one that kept every reading: the folded
 * state (src/verification/window.ts), sent through JSON at every reading as a workflow's payloads
 * would send it, gives the same verdict as `judge()` over the whole list, on random windows that
 * exercise every check: counter restarts, unreadable revenue, excluded alternatives (−Infinity),
 * steps, a late latency bound, plain limits, health flapping. And the 5xx ceiling keeps its trailing
 * span bounded however long the window runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_LATENCY_BOUNDS_MS,
  MAX_RECENT_READINGS,
  addReading,
  judge,
  judgeWindow,
  portableWindow,
  restoreWindow,
  startWindow,
  verdictPlan,
  type Reading,
  type ReleaseCounters,
  type VerdictPlan,
  type WindowState,
} from '../../src/verification/index.js';
import { mulberry32 } from '../support/random.js';

const BUCKETS = DEFAULT_LATENCY_BOUNDS_MS.length + 1;
const zero = (): ReleaseCounters => ({
  requests: 0,
  errors: 0,
  healthy: true,
  latency: { boundsMs: [...DEFAULT_LATENCY_BOUNDS_MS], counts: Array.from({ length: BUCKETS }, () => 0) },
  revenue: { paymentAttempts: 0, failedPayments: 0, revenueEvents: 0 },
});

/** One release's counters after an interval of `requests` with the given error, slow and revenue rates. */
function grow(
  rand: () => number,
  c: ReleaseCounters,
  requests: number,
  rates: { errors: number; slow: number; revenue: number },
): ReleaseCounters {
  const draw = (n: number, p: number): number => {
    let k = 0;
    for (let i = 0; i < n; i++) if (rand() < p) k++;
    return k;
  };
  const slow = draw(requests, rates.slow);
  const revenue = c.revenue!;
  const attempts = draw(requests, 0.2);
  const revenueEvents = draw(attempts, rates.revenue);
  const counts = [...c.latency.counts];
  counts[2] = (counts[2] ?? 0) + requests - slow;
  counts[6] = (counts[6] ?? 0) + slow;
  return {
    requests: c.requests + requests,
    errors: c.errors + draw(requests, rates.errors),
    healthy: rand() > 0.02,
    latency: { boundsMs: c.latency.boundsMs, counts },
    revenue: {
      paymentAttempts: revenue.paymentAttempts + attempts,
      failedPayments: revenue.failedPayments + draw(attempts, rates.errors),
      revenueEvents: revenue.revenueEvents + revenueEvents,
    },
  };
}

/** A random window of `n` readings: thin or busy traffic, a faulty or healthy canary, restarts and gaps. */
function randomWindow(seed: number, n: number): Reading[] {
  const rand = mulberry32(seed);
  const faulty = rand() < 0.5;
  const stopped = rand() < 0.3;
  const perInterval = rand() < 0.3 ? 3 : 60;
  let canary = zero();
  let stable = zero();
  const readings: Reading[] = [];
  let step = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && rand() < 0.08 && step < 2) step++;
    const weight = [10, 25, 50][step]!;
    const total = Math.round(perInterval * (0.5 + rand()));
    const onCanary = Math.round((total * weight) / 100);
    canary = grow(rand, rand() < 0.03 ? zero() : canary, onCanary, {
      errors: faulty ? 0.06 : 0.02,
      slow: faulty ? 0.2 : 0.04,
      revenue: stopped ? 0 : 0.9,
    });
    stable = grow(rand, stable, total - onCanary, { errors: 0.02, slow: 0.04, revenue: 0.9 });
    const unread = rand() < 0.1;
    const shown = (c: ReleaseCounters): ReleaseCounters => ({ ...c, revenue: unread ? null : c.revenue! });
    readings.push({ step, weight, canary: shown(canary), stable: shown(stable) });
  }
  return readings;
}

const PLAN: VerdictPlan = verdictPlan({
  revenue: true,
  limits: { maxErrorRate: 0.05, maxP95LatencyMs: 400, consecutiveFailureLimit: 3 },
  errorCeilingMinRequests: 40,
});

/** The state through JSON, as continue-as-new would carry it. */
const carried = (state: WindowState): WindowState =>
  restoreWindow(JSON.parse(JSON.stringify(portableWindow(state))) as ReturnType<typeof portableWindow>);

describe('a verification window carried as state', () => {
  it('judges like judge() over every reading, with the state sent through JSON at each one', () => {
    let excluded = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const readings = randomWindow(seed, 60);
      let state = carried(startWindow(PLAN, readings[0]!));
      for (let i = 1; i < readings.length; i++) {
        state = carried(addReading(PLAN, state, readings[i]!));
        const whole = judge({ plan: PLAN, readings: readings.slice(0, i + 1), windowEnded: i % 7 === 0 });
        const resumed = judgeWindow(PLAN, state, i % 7 === 0);
        assert.deepEqual(resumed, whole, `seed ${seed}, reading ${i}`);
      }
      if (state.checkout.counts.comparison.logLr[0] === -Infinity) excluded++;
    }
    // The windows did exercise the value JSON cannot carry: a checkout test the data excluded.
    assert.ok(excluded > 0, 'no window had canary revenue excluding the stop');
  });

  it('keeps a bounded trailing span for the 5xx ceiling, however long the window', () => {
    const thin = verdictPlan({ errorCeilingMinRequests: 1_000_000 });
    const readings = randomWindow(7, 3 * MAX_RECENT_READINGS);
    let state = startWindow(thin, readings[0]!);
    for (const r of readings.slice(1)) state = addReading(thin, state, r);
    assert.equal(state.recent.length, MAX_RECENT_READINGS);
    assert.equal(state.readings, readings.length);
    assert.equal(state.latest, readings[readings.length - 1]);
    // Busy traffic: just enough readings to hold the ceiling's requests.
    const busy = verdictPlan({ errorCeilingMinRequests: 20 });
    let small = startWindow(busy, readings[0]!);
    for (const r of readings.slice(1)) small = addReading(busy, small, r);
    assert.ok(small.recent.length < 10, `kept ${small.recent.length} readings for 20 requests`);
  });
});
