import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppMetrics } from '../src/metrics.js';
import { openDatabase } from '../src/db.js';
import { RevenueLedger } from '../src/revenue/ledger.js';
import { deliver, makeApp, stripeEvent } from './helpers.js';

describe('GET /metrics and /metrics/revenue', () => {
  it('report requests, revenue counters and today\'s revenue', async () => {
    const t = await makeApp();
    try {
      await deliver(t.app, stripeEvent('payment_intent.succeeded', { id: 'pi_m1', amount_received: 12_000, currency: 'usd' }));
      await deliver(t.app, stripeEvent('charge.refunded', { id: 'ch_m1', amount_refunded: 2000, currency: 'usd' }));
      await t.app.inject({ method: 'GET', url: '/nope' });

      const revenue = (await t.app.inject({ method: 'GET', url: '/metrics/revenue' })).json();
      assert.equal(revenue.revenueCents, 10_000);
      assert.equal(revenue.targetCents, 30_000);
      assert.equal(revenue.progress, 0.3333);
      assert.equal(revenue.eventCount, 2);
      assert.match(revenue.lastEventAt, /^\d{4}-\d\d-\d\dT/);

      const res = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
      const text = res.body;
      assert.match(text, /saas_http_requests_total\{method="POST",route="\/webhooks\/stripe",status="200"\} 2/);
      assert.match(text, /saas_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
      assert.match(text, /saas_revenue_events_total\{type="payment_intent.succeeded"\} 1/);
      assert.match(text, /saas_revenue_cents_total\{direction="credit"\} 12000/);
      assert.match(text, /saas_revenue_cents_total\{direction="refund"\} 2000/);
      assert.match(text, /saas_revenue_today_cents 10000/);
    } finally {
      await t.close();
    }
  });

  it('can include the default process metrics', async () => {
    const metrics = new AppMetrics(new RevenueLedger(openDatabase(':memory:')), { defaultMetrics: true });
    assert.match((await metrics.render()).body, /process_cpu_user_seconds_total/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const t = await makeApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/does-not-exist' });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), { error: 'not found' });
    } finally {
      await t.close();
    }
  });
});
