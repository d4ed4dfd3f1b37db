/**
 * The canary's supporting parts outside the workflow: the rollback brake over the audit trail, the
 * Prometheus signal (a real HTTP server on loopback, and a closed port for a backend that is down),
 * and the negligible-rate pass of the count comparisons.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { laneBrakeOf } from '../../src/activities/environments.js';
import { paymentProbes, topUpTraffic } from '../../src/activities/probes.js';
import { PROBE_HEADER } from '../../src/environments/local/routing.js';
import Stripe from 'stripe';
import { readPrometheus } from '../../src/activities/prometheus.js';
import type { AuditEntry, CanaryProgress } from '../../src/types.js';
import { PAYMENT_PROBES } from '../support/delivery.js';
import { poissonCdf } from '../../src/verification/compare.js';
import { judge, verdictPlan, emptyLatency, type Reading } from '../../src/verification/index.js';
import { syntheticNote } from '../../src/workflows/ui.js';

const NOW = '2026-12-06T12:00:00.000Z';
const hoursAgo = (h: number): string => new Date(Date.parse(NOW) - h * 3_600_000).toISOString();
const entry = (action: AuditEntry['action'], at: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  at,
  workflowId: `release-shop-${at}`,
  app: 'shop',
  action,
  by: 'tollgate',
  reason: 'canary failed',
  outcome: 'accepted',
  ...extra,
});
const brake = { app: 'shop', limit: 3, windowMs: 86_400_000, at: NOW };

describe('rollback brake', () => {
  it('counts automatic rollbacks of the app within the window, once per run', () => {
    const trail = [
      entry('auto-rollback', hoursAgo(30)), // outside the window
      entry('auto-rollback', hoursAgo(5)),
      entry('auto-rollback', hoursAgo(5)), // a retried append of the same run
      entry('rollback', hoursAgo(4), { by: 'alice' }), // a person's: not automatic
      entry('auto-rollback', hoursAgo(3), { app: 'other' }),
      entry('auto-rollback', hoursAgo(2), { outcome: 'refused' }),
      entry('auto-rollback', hoursAgo(1)),
    ];
    const found = laneBrakeOf(trail, brake);
    assert.equal(found.rollbacks.length, 2);
    assert.equal(found.braked, false);
    const third = laneBrakeOf([...trail, entry('auto-rollback', hoursAgo(0.5))], brake);
    assert.equal(third.braked, true);
    assert.deepEqual(
      third.rollbacks.map((r) => r.at),
      [hoursAgo(5), hoursAgo(1), hoursAgo(0.5)],
    );
  });

  it('an unlock clears what came before it; a refused unlock clears nothing', () => {
    const trail = [hoursAgo(6), hoursAgo(5), hoursAgo(4)].map((at) => entry('auto-rollback', at));
    assert.equal(laneBrakeOf(trail, brake).braked, true);
    const refused = entry('lane-unlock', hoursAgo(3), { by: 'mallory', outcome: 'refused' });
    assert.equal(laneBrakeOf([...trail, refused], brake).braked, true);
    const unlocked = laneBrakeOf([...trail, entry('lane-unlock', hoursAgo(3), { by: 'alice' })], brake);
    assert.equal(unlocked.braked, false);
    assert.equal(unlocked.unlocked?.by, 'alice');
    assert.equal(unlocked.rollbacks.length, 0);
  });
});

describe('Prometheus signal', () => {
  let server: Server;
  let url = '';
  const queries: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      queries.push(query);
      res.setHeader('content-type', 'application/json');
      if (query.startsWith('two')) {
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{}, {}] } }));
      } else if (query.startsWith('broken')) {
        res.statusCode = 503;
        res.end('{}');
      } else {
        const result = [{ metric: {}, value: [1765000000, '4.5'] }];
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads one value, naming the canary in the query', async () => {
    const reading = await readPrometheus(
      { name: 'depth', url, query: 'depth{release="$release"}' },
      'shop-abc',
    );
    assert.deepEqual(reading, { name: 'depth', value: 4.5 });
    assert.equal(queries.at(-1), 'depth{release="shop-abc"}');
  });

  it('a backend that is down or answers nonsense is unavailable, never a number', async () => {
    const down = await readPrometheus({ name: 'depth', url: 'http://127.0.0.1:9', query: 'depth' }, 'r');
    assert.match('unavailable' in down ? down.unavailable : '', /did not answer/);
    const broken = await readPrometheus({ name: 'depth', url, query: 'broken' }, 'r');
    assert.deepEqual(broken, { name: 'depth', unavailable: 'Prometheus answered HTTP 503' });
    const two = await readPrometheus({ name: 'depth', url, query: 'two' }, 'r');
    assert.deepEqual(two, { name: 'depth', unavailable: 'the query gave no single number (2 series)' });
  });
});

describe('negligible rate', () => {
  it('poissonCdf is the Poisson distribution function', () => {
    assert.equal(poissonCdf(0, 0), 1);
    assert.ok(Math.abs(poissonCdf(0, 2) - Math.exp(-2)) < 1e-12);
    assert.ok(Math.abs(poissonCdf(2, 1) - 2.5 * Math.exp(-1)) < 1e-12);
  });

  it('a canary with no 5xx passes the 5xx comparison once its requests rule out the negligible rate', () => {
    const plan = verdictPlan({ negligibleRate: 0.001, minRequestsPerStep: 0 });
    const reading = (canary: number, stable: number): Reading => ({
      step: 0,
      weight: 25,
      canary: { requests: canary, errors: 0, latency: emptyLatency(), healthy: true },
      stable: { requests: stable, errors: 0, latency: emptyLatency(), healthy: true },
    });
    const errorsAt = (canary: number): string | undefined =>
      judge({ plan, readings: [reading(0, 0), reading(canary, canary * 3)] }).checks.find(
        (c) => c.check === 'errors',
      )?.outcome;
    // (1 - 0.001)^n ≤ β = 0.2 needs n ≥ 1609 requests without a 5xx.
    assert.equal(errorsAt(1500), 'inconclusive');
    assert.equal(errorsAt(1700), 'pass');
    const without = verdictPlan({ minRequestsPerStep: 0, negligibleRate: undefined });
    delete (without as { negligibleRate?: number }).negligibleRate;
    const old = judge({ plan: without, readings: [reading(0, 0), reading(5000, 15000)] });
    assert.equal(
      old.checks.find((c) => c.check === 'errors')?.outcome,
      'inconclusive',
      'plans from before it stay as they were',
    );
  });
});

describe('payment probes', () => {
  const plan = PAYMENT_PROBES;
  const webhook = { STRIPE_WEBHOOK_SECRET: 'whsec_probe' };
  const SECRETS = ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'];

  it('run only where the released app has a Stripe test key, and say why not, naming the variable and never its value', () => {
    for (const key of ['sk_test_abc', 'rk_test_abc', ' sk_test_abc ']) {
      const found = paymentProbes(plan, { STRIPE_SECRET_KEY: key, ...webhook }, SECRETS);
      assert.ok('probes' in found, `${key} is a test key`);
      assert.equal(found.probes.webhookSecret, 'whsec_probe');
    }
    for (const key of ['sk_live_abc123', 'rk_live_abc123', 'pk_test_abc']) {
      const found = paymentProbes(plan, { STRIPE_SECRET_KEY: key, ...webhook }, SECRETS);
      assert.ok('refused' in found, `${key} is refused`);
      assert.match(found.refused, /STRIPE_SECRET_KEY is not a Stripe test key/);
      assert.ok(!found.refused.includes(key), 'the key itself is never in the report');
    }
    const unset = paymentProbes(plan, webhook, SECRETS);
    assert.deepEqual(unset, { refused: 'STRIPE_SECRET_KEY is not set where the worker runs' });
    const noWebhook = paymentProbes(plan, { STRIPE_SECRET_KEY: 'sk_test_abc' }, SECRETS);
    // A key the environment does not hand its releases may not be the one they use: no probes.
    const notHanded = paymentProbes(plan, { STRIPE_SECRET_KEY: 'sk_test_abc', ...webhook }, []);
    assert.ok('refused' in notHanded);
    assert.match(notHanded.refused, /not among the environment's secrets/);
    assert.deepEqual(noWebhook, { refused: 'STRIPE_WEBHOOK_SECRET is not set where the worker runs' });
  });

  it('a payment probe is a checkout, then the signed test-mode event for its PaymentIntent, both with one probe key', async () => {
    const seen: { method: string; url: string; key: string; body: string; signature?: string }[] = [];
    let intents = 0;
    const app = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const key = String(req.headers[PROBE_HEADER] ?? '');
        const signature = req.headers['stripe-signature'];
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          key,
          body,
          ...(typeof signature === 'string' ? { signature } : {}),
        });
        if (req.url === '/api/checkout') {
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ id: `pi_test_${++intents}`, status: 'requires_payment_method' }));
        } else {
          res.writeHead(200).end('{}');
        }
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = app.address() as { port: number };
      const report = await topUpTraffic({
        url: `http://127.0.0.1:${port}`,
        routes: ['/healthz'],
        ratePerSecond: 0,
        durationMs: 1200,
        counters: () => Promise.resolve({}),
        signal: new AbortController().signal,
        beat: () => undefined,
        payments: { plan: { ...plan, ratePerSecond: 20 }, webhookSecret: 'whsec_probe' },
      });
      const checkouts = seen.filter((r) => r.url === plan.checkoutPath);
      const events = seen.filter((r) => r.url === plan.webhookPath);
      assert.ok(checkouts.length >= 10, `${checkouts.length} checkouts at 20 per second for 1.2 s`);
      assert.deepEqual(report.payments, { sent: checkouts.length, failed: 0, events: events.length });
      assert.equal(events.length, checkouts.length, 'each checkout is followed by its event');
      const stripe = new Stripe('sk_test_verify_only', { telemetry: false });
      for (const [i, checkout] of checkouts.entries()) {
        assert.equal(checkout.method, 'POST');
        assert.deepEqual(JSON.parse(checkout.body), {
          amount: 100,
          currency: 'usd',
          description: 'tollgate canary probe (Stripe test mode)',
        });
        const event = events.find((e) => e.key === checkout.key && e.body.includes(`"pi_test_${i + 1}"`));
        assert.ok(event, `the event for pi_test_${i + 1} came with the checkout's probe key ${checkout.key}`);
        // A real Stripe SDK accepts the signature: the app's own webhook check would.
        const parsed = stripe.webhooks.constructEvent(event.body, event.signature ?? '', 'whsec_probe');
        assert.equal(parsed.type, 'payment_intent.succeeded');
        assert.equal(parsed.livemode, false, 'test mode only');
      }
    } finally {
      app.close();
    }
  });

  it('a refusal shows beside the synthetic share', () => {
    const progress = {
      synthetic: { canary: 1, stable: 1 },
      paymentProbesOff: 'STRIPE_SECRET_KEY is not a Stripe test key',
    } as unknown as CanaryProgress;
    assert.equal(
      syntheticNote(progress),
      '; synthetic (probes): canary 100 %, stable 100 %; payment probes off: STRIPE_SECRET_KEY is not a Stripe test key',
    );
  });
});
