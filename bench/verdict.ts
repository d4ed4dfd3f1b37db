/**
 * The verification verdicts on simulated releases: healthy A/A releases (how many are rolled back
 * by mistake), a total checkout stop (how many expected revenue events until it is caught) and a 2×
 * rise in 5xx (how many requests until it is caught, against the power calculation's forecast).
 *
 *   node dist/bench/verdict.js [--releases 1000] [--faulty 200] [--seed 1] [--markdown FILE]
 *
 * Each release is simulated request by request (Poisson arrivals, a seeded PRNG of its own), the
 * proxy's cumulative counters are read every interval, and `judge()` runs on the readings so far,
 * as the workflow would; the first fail rolls the release back. The schedule does not advance early
 * on a pass, so every release is looked at every interval of the window (the most looks, the most
 * chances of a false alarm). Prints figures; asserts nothing.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DEFAULT_LATENCY_BOUNDS_MS,
  Outcome,
  checkAlpha,
  forecast,
  judge,
  verdictPlan,
  type Reading,
  type ReleaseCounters,
  type Verdict,
} from '../src/verification/index.js';
import { mulberry32 } from '../test/support/random.js';

const { values } = parseArgs({
  options: {
    releases: { type: 'string', default: '1000' },
    faulty: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    markdown: { type: 'string' },
  },
});
const RELEASES = Number(values.releases);
const FAULTY = Number(values.faulty);

// --- the simulated world ---------------------------------------------------------------------

const WEIGHTS = [5, 25, 50, 100];
const STEP_S = 180;
const INTERVAL_S = 10;
const HISTORY_S = 600;
const RATES = [1, 100];
const LATENCY = { medianMs: 80, sigma: 0.6 };
/** A healthy release: 0.5 % 5xx, 2 % of requests are payment attempts, 5 % of those fail. */
const HEALTHY = { errorRate: 0.005, paymentRate: 0.02, paymentFailure: 0.05, revenue: true, attempts: true };
/** Stripe's webhook reaches the app this long after a payment, on average (exponential). */
const WEBHOOK_DELAY_S = 2;
type Behaviour = typeof HEALTHY;

const plan = verdictPlan({ revenue: true });
const alphaPerCheck = checkAlpha(plan, true);

const random = mulberry32(Number(values.seed));

/** Φ(x), Abramowitz & Stegun 7.1.26 (error below 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** The lognormal latency's cumulative probability at each bucket bound: one uniform picks a bucket. */
const BUCKET_CDF = DEFAULT_LATENCY_BOUNDS_MS.map((b) =>
  normalCdf(Math.log(b / LATENCY.medianMs) / LATENCY.sigma),
);
const bucketOf = (u: number): number => {
  let i = 0;
  while (i < BUCKET_CDF.length && u > BUCKET_CDF[i]!) i++;
  return i;
};

/** One release's counters as the proxy keeps them, with revenue events waiting for their webhook. */
class Counters {
  requests = 0;
  errors = 0;
  buckets = new Array<number>(DEFAULT_LATENCY_BOUNDS_MS.length + 1).fill(0);
  attempts = 0;
  failed = 0;
  revenue = 0;
  /** Revenue events by the interval their webhook arrives in. */
  pending: number[] = [];

  /** The stable release's life before the window, at its expected values. */
  static history(rate: number): Counters {
    const c = new Counters();
    const n = rate * HISTORY_S;
    c.requests = n;
    c.errors = Math.round(n * HEALTHY.errorRate);
    c.buckets = [...BUCKET_CDF, 1].map((p, i) => Math.round(n * (p - (BUCKET_CDF[i - 1] ?? 0))));
    c.attempts = Math.round(n * HEALTHY.paymentRate);
    c.failed = Math.round(c.attempts * HEALTHY.paymentFailure);
    c.revenue = c.attempts - c.failed;
    return c;
  }

  serve(at: number, b: Behaviour): void {
    this.requests++;
    if (random() < b.errorRate) this.errors++;
    this.buckets[bucketOf(random())]!++;
    if (!b.attempts || random() >= b.paymentRate) return;
    this.attempts++;
    if (!b.revenue || random() < b.paymentFailure) {
      this.failed++;
      return;
    }
    const arrives = Math.floor((at - WEBHOOK_DELAY_S * Math.log(random())) / INTERVAL_S);
    this.pending[arrives] = (this.pending[arrives] ?? 0) + 1;
  }

  read(interval: number): ReleaseCounters {
    this.revenue += this.pending[interval] ?? 0;
    return {
      requests: this.requests,
      errors: this.errors,
      healthy: true,
      latency: { boundsMs: DEFAULT_LATENCY_BOUNDS_MS, counts: [...this.buckets] },
      revenue: { paymentAttempts: this.attempts, failedPayments: this.failed, revenueEvents: this.revenue },
    };
  }
}

interface Run {
  /** The first fail, if any: when, which check, the canary's requests and all requests by then. */
  fail?: { atS: number; check: string; canaryRequests: number; requests: number; verdict: Verdict };
  passAtS?: number;
  final: Verdict;
}

/** One release through the window: judged after every interval, rolled back at the first fail. */
function simulate(rate: number, canary: Behaviour): Run {
  const stable = Counters.history(rate);
  const release = new Counters();
  const readings: Reading[] = [
    { step: 0, weight: WEIGHTS[0]!, canary: release.read(-1), stable: stable.read(-1) },
  ];
  const intervalsPerStep = STEP_S / INTERVAL_S;
  let t = 0;
  let served = 0;
  let passAtS: number | undefined;
  let verdict: Verdict | undefined;
  for (let i = 0; i < WEIGHTS.length * intervalsPerStep; i++) {
    const step = Math.floor(i / intervalsPerStep);
    const weight = WEIGHTS[step]!;
    const end = (i + 1) * INTERVAL_S;
    for (t -= Math.log(random()) / rate; t < end; t -= Math.log(random()) / rate) {
      served++;
      if (random() * 100 < weight) release.serve(t, canary);
      else stable.serve(t, HEALTHY);
    }
    readings.push({ step, weight, canary: release.read(i), stable: stable.read(i) });
    const last = i === WEIGHTS.length * intervalsPerStep - 1;
    verdict = judge({ plan, readings, windowEnded: last });
    if (verdict.outcome === Outcome.Pass) passAtS ??= end;
    if (verdict.outcome === Outcome.Fail) {
      const fail = {
        atS: end,
        check: verdict.decidedBy ?? '?',
        canaryRequests: release.requests,
        requests: served,
        verdict,
      };
      return { fail, final: verdict, ...(passAtS === undefined ? {} : { passAtS }) };
    }
  }
  return { final: verdict!, ...(passAtS === undefined ? {} : { passAtS }) };
}

// --- figures ---------------------------------------------------------------------------------

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN;
};
const pct = (n: number, of: number): string => `${n} of ${of} (${((100 * n) / of).toFixed(1)} %)`;
/** The upper end of the 95 % Wilson score interval for n successes of `of`. */
const upper95 = (n: number, of: number): number => {
  const z = 1.96;
  const p = n / of;
  const centre = p + (z * z) / (2 * of);
  const spread = z * Math.sqrt((p * (1 - p)) / of + (z * z) / (4 * of * of));
  return (centre + spread) / (1 + (z * z) / of);
};
const num = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const byCheck = (runs: Run[]): string => {
  const counts = new Map<string, number>();
  for (const r of runs) if (r.fail) counts.set(r.fail.check, (counts.get(r.fail.check) ?? 0) + 1);
  return [...counts].map(([check, n]) => `${check} ${n}`).join(', ') || 'none';
};

const rows: [string, string, string, string][] = [];
const add = (scenario: string, rate: number, figure: string, target: string): void => {
  rows.push([scenario, `${rate} req/s`, figure, target]);
  console.log(`${scenario} @ ${rate} req/s: ${figure}${target ? `  [target: ${target}]` : ''}`);
};
const started = performance.now();
const schedule = (rate: number) => WEIGHTS.map((weight) => ({ weight, requests: rate * STEP_S }));

for (const rate of RATES) {
  const runs = Array.from({ length: RELEASES }, () => simulate(rate, HEALTHY));
  const failed = runs.filter((r) => r.fail);
  const passed = runs.filter((r) => r.passAtS !== undefined && !r.fail);
  const bound = (100 * upper95(failed.length, RELEASES)).toFixed(1);
  add(
    'A/A: false rollbacks',
    rate,
    `${pct(failed.length, RELEASES)}, 95 % upper bound ${bound} %; by check: ${byCheck(runs)}`,
    '≤ 1 %',
  );
  const when = passed.map((r) => r.passAtS!);
  const open = new Map<string, number>();
  for (const r of runs) {
    if (r.fail || r.passAtS !== undefined) continue;
    const by = r.final.decidedBy ?? r.final.reason;
    open.set(by, (open.get(by) ?? 0) + 1);
  }
  const heldBy = [...open].map(([check, n]) => `${check} ${n}`).join(', ') || 'none';
  add(
    'A/A: passed within the window',
    rate,
    `${pct(passed.length, RELEASES)}${when.length ? `, median at ${num(quantile(when, 0.5))} s` : ''}; the rest inconclusive → \`${plan.onInconclusive}\` (held by: ${heldBy})`,
    '',
  );
  const expected = forecast({
    steps: schedule(rate),
    rate: HEALTHY.errorRate,
    k: 2,
    alpha: alphaPerCheck,
    beta: plan.beta,
  });
  add(
    'A/A: 5xx pass forecast',
    rate,
    expected.pass
      ? `${num(expected.pass.requests)} requests (step ${expected.pass.step + 1}, ${WEIGHTS[expected.pass.step]} %)`
      : `beyond the window (${num(rate * STEP_S * WEIGHTS.length)} requests)`,
    '',
  );
}

// However a stop is judged on revenue counts, a healthy canary at share s shows none in E expected
// events with chance about exp(−E · −ln(1 − s) / s): the least E a test at this α can fail at.
const firstShare = WEIGHTS[0]! / 100;
const stopFloor = (Math.log(1 / alphaPerCheck) * firstShare) / -Math.log1p(-firstShare);
const stopTarget = `≤ 3 expected events (least possible on revenue counts alone at α ${alphaPerCheck} and ${WEIGHTS[0]} %: ${stopFloor.toFixed(1)})`;
const STOPS: [string, Behaviour][] = [
  ['checkout stop: every payment fails', { ...HEALTHY, revenue: false }],
  ['checkout stop: no payment attempts', { ...HEALTHY, attempts: false }],
];
for (const [name, behaviour] of STOPS) {
  for (const rate of RATES) {
    const runs = Array.from({ length: FAULTY }, () => simulate(rate, behaviour));
    const caught = runs.filter((r) => r.fail);
    // Revenue the canary would have recorded by then at the stable's rate (webhooks included).
    const revenuePerRequest = HEALTHY.paymentRate * (1 - HEALTHY.paymentFailure);
    const expected = caught.map((r) => r.fail!.canaryRequests * revenuePerRequest);
    add(
      name,
      rate,
      `caught ${pct(caught.length, FAULTY)}; expected revenue events until caught: median ${num(quantile(expected, 0.5), 1)}, p90 ${num(quantile(expected, 0.9), 1)}, max ${num(Math.max(...expected), 1)}; by check: ${byCheck(runs)}`,
      stopTarget,
    );
  }
}

for (const rate of RATES) {
  const runs = Array.from({ length: FAULTY }, () =>
    simulate(rate, { ...HEALTHY, errorRate: 2 * HEALTHY.errorRate }),
  );
  const caught = runs.filter((r) => r.fail);
  const requests = caught.map((r) => r.fail!.requests);
  const canary = caught.map((r) => r.fail!.canaryRequests);
  const expected = forecast({
    steps: schedule(rate),
    rate: HEALTHY.errorRate,
    k: 2,
    alpha: alphaPerCheck,
    beta: plan.beta,
  });
  const predicted = expected.fail
    ? `forecast ${num(expected.fail.requests)} requests (${num(expected.fail.canaryRequests)} on the canary, step ${expected.fail.step + 1})`
    : `forecast: beyond the window (${num(rate * STEP_S * WEIGHTS.length)} requests)`;
  add(
    '2× 5xx (0.5 % → 1 %)',
    rate,
    `caught ${pct(caught.length, FAULTY)}; requests until caught: median ${num(quantile(requests, 0.5))} (${num(quantile(canary, 0.5))} on the canary), p90 ${num(quantile(requests, 0.9))}; by check: ${byCheck(runs)}`,
    predicted,
  );
}

const seconds = (performance.now() - started) / 1000;
const parameters = [
  `window: steps ${WEIGHTS.join(' → ')} %, ${STEP_S} s each, read every ${INTERVAL_S} s (${(WEIGHTS.length * STEP_S) / INTERVAL_S} looks)`,
  `traffic: Poisson at ${RATES.join(' and ')} req/s, split at random by weight; the stable release's counters start with ${HISTORY_S} s of history`,
  `healthy release: 5xx ${HEALTHY.errorRate * 100} %, latency lognormal (median ${LATENCY.medianMs} ms, σ ${LATENCY.sigma}), payments ${HEALTHY.paymentRate * 100} % of requests, ${HEALTHY.paymentFailure * 100} % of them failing, revenue events ${WEBHOOK_DELAY_S} s later on average`,
  `plan: α ${plan.alpha} (${alphaPerCheck} per check over 4), β ${plan.beta}, detectable ratio 2×, 5xx ceiling ${plan.errorCeiling * 100} %, ${plan.minRequestsPerStep} canary requests per step`,
  `${RELEASES} A/A releases per rate, ${FAULTY} per faulty scenario and rate; seed ${values.seed}; ${seconds.toFixed(1)} s`,
];
for (const p of parameters) console.log(`- ${p}`);

if (values.markdown) {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  writeFileSync(
    values.markdown,
    [
      ...parameters.map((p) => `- ${p}`),
      '',
      line(['scenario', 'traffic', 'figure', 'target / forecast']),
      line(['---', '---', '---', '---']),
      ...rows.map(line),
    ].join('\n') + '\n',
  );
}
