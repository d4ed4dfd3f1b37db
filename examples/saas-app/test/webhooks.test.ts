import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WEBHOOK_BODY_LIMIT } from '../src/routes/webhooks.js';
import { deliver, makeApp, signed, stripeEvent, testConfig, type TestApp } from './helpers.js';

const succeeded = (id: string, amount: number) =>
  stripeEvent('payment_intent.succeeded', { id, object: 'payment_intent', amount_received: amount, currency: 'usd' });

async function revenue(t: TestApp): Promise<{ revenueCents: number; eventCount: number }> {
  return (await t.app.inject({ method: 'GET', url: '/metrics/revenue' })).json();
}

describe('POST /webhooks/stripe', () => {
  let t: TestApp;
  before(async () => (t = await makeApp()));
  after(async () => t.close());

  it('counts payments, sessions and refunds', async () => {
    const event = succeeded('pi_w1', 5000);
    const a = await deliver(t.app, event);
    assert.equal(a.statusCode, 200);
    assert.deepEqual(a.json(), { received: true, eventId: event.id, status: 'counted', counted: true });
    const s = await deliver(
      t.app,
      stripeEvent('checkout.session.completed', { id: 'cs_w1', payment_intent: 'pi_w2', amount_total: 2000, currency: 'usd' }),
    );
    assert.equal(s.json().counted, true);
    const r = await deliver(t.app, stripeEvent('charge.refunded', { id: 'ch_w1', amount_refunded: 1500, currency: 'usd' }));
    assert.equal(r.json().counted, true);
    assert.deepEqual(await revenue(t).then((x) => [x.revenueCents, x.eventCount]), [5500, 3]);
  });

  it('answers 200 to a repeated event and counts it once', async () => {
    const event = succeeded('pi_dup', 700);
    const before = (await revenue(t)).revenueCents;
    const first = await deliver(t.app, event);
    const again = await deliver(t.app, event);
    assert.equal(first.json().status, 'counted');
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), { received: true, eventId: event.id, status: 'duplicate-event', counted: false });
    assert.equal((await revenue(t)).revenueCents, before + 700);
  });

  it('acknowledges and ignores other event types', async () => {
    const before = await revenue(t);
    const res = await deliver(t.app, stripeEvent('customer.created', { id: 'cus_1' }));
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'ignored');
    assert.deepEqual(await revenue(t), before);
  });

  const rejected: [string, () => Promise<{ statusCode: number; json: () => { field?: string; error: string } }>, string][] = [
    ['a missing signature header', () => t.app.inject({ method: 'POST', url: '/webhooks/stripe', payload: JSON.stringify(succeeded('pi_x', 1)), headers: { 'content-type': 'application/json' } }), 'stripe-signature'],
    ['a forged signature', () => t.app.inject({ method: 'POST', url: '/webhooks/stripe', payload: JSON.stringify(succeeded('pi_x', 1)), headers: { 'content-type': 'application/json', 'stripe-signature': 't=1700000000,v1=deadbeef' } }), 'stripe-signature'],
    ['the wrong secret', () => deliver(t.app, succeeded('pi_x', 1), { secret: 'whsec_wrong' }), 'stripe-signature'],
    ['a replay outside the tolerance', () => deliver(t.app, succeeded('pi_x', 1), { timestamp: Math.floor(Date.now() / 1000) - 301 }), 'stripe-signature'],
    ['a body changed after signing', () => {
      const { headers } = signed(succeeded('pi_x', 1));
      return t.app.inject({ method: 'POST', url: '/webhooks/stripe', payload: JSON.stringify(succeeded('pi_x', 999_999)), headers });
    }, 'stripe-signature'],
    ['a signed body that is not JSON', () => deliver(t.app, '{"id": "evt_1",'), 'body'],
    ['an empty body', () => t.app.inject({ method: 'POST', url: '/webhooks/stripe', headers: { 'stripe-signature': 't=1,v1=a' } }), 'body'],
    ['a live-mode event under a test key', () => deliver(t.app, { ...succeeded('pi_live', 100), livemode: true }), 'livemode'],
    ['an event without an id', () => deliver(t.app, { ...succeeded('pi_x', 1), id: undefined }), 'id'],
    ['a negative amount', () => deliver(t.app, succeeded('pi_neg', -100)), 'data.object.amount_received'],
    ['a fractional amount', () => deliver(t.app, succeeded('pi_frac', 10.5)), 'data.object.amount_received'],
  ];

  for (const [name, send, field] of rejected) {
    it(`rejects ${name} with 400 naming ${field}, writing nothing`, async () => {
      const before = await revenue(t);
      const res = await send();
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().field, field);
      assert.equal(typeof res.json().error, 'string');
      assert.deepEqual(await revenue(t), before);
    });
  }

  it('rejects a body over the size limit with 413', async () => {
    const before = await revenue(t);
    const huge = { ...succeeded('pi_big', 1), padding: 'x'.repeat(WEBHOOK_BODY_LIMIT) };
    const res = await deliver(t.app, huge);
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().field, 'body');
    assert.deepEqual(await revenue(t), before);
  });
});

describe('webhook with SAAS_FAULT=webhook', () => {
  it('accepts signed events but counts nothing', async () => {
    const t = await makeApp({ config: testConfig({ fault: 'webhook' }) });
    try {
      const res = await deliver(t.app, succeeded('pi_fault', 1000));
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().counted, false);
      assert.equal((await revenue(t)).revenueCents, 0);
      const forged = await deliver(t.app, succeeded('pi_fault', 1000), { secret: 'whsec_other' });
      assert.equal(forged.statusCode, 400);
    } finally {
      await t.close();
    }
  });
});

describe('webhook with a live key', () => {
  it('accepts live-mode events', async () => {
    const t = await makeApp({ config: testConfig({}, { STRIPE_SECRET_KEY: 'sk_live_prod', NODE_ENV: 'production' }) });
    try {
      const res = await deliver(t.app, { ...succeeded('pi_live_ok', 100), livemode: true });
      assert.equal(res.json().counted, true);
    } finally {
      await t.close();
    }
  });
});
