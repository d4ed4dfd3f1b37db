import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createStripe } from '../src/stripe/client.js';
import { CHECKOUT_BODY_LIMIT, MAX_AMOUNT_CENTS } from '../src/routes/checkout.js';
import { fakeStripeApi, makeApp, testConfig, type TestApp } from './helpers.js';

describe('POST /api/checkout', () => {
  let api: Awaited<ReturnType<typeof fakeStripeApi>>;
  let t: TestApp;

  before(async () => {
    api = await fakeStripeApi();
    const config = testConfig({}, { STRIPE_API_BASE: api.url });
    t = await makeApp({ config, stripe: createStripe(config.stripe) });
  });
  after(async () => {
    await t.close();
    await api.close();
  });

  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/checkout',
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('creates a PaymentIntent through the SDK with an idempotency key', async () => {
    const res = await post({ amount: 4900, currency: 'usd', description: 'Pro plan' });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.id, 'pi_fake_1');
    assert.equal(body.clientSecret, 'pi_fake_1_secret_abc');
    assert.equal(body.amount, 4900);
    const seen = api.seen.at(-1);
    assert.equal(seen?.path, '/v1/payment_intents');
    assert.equal(seen?.form.get('amount'), '4900');
    assert.equal(seen?.form.get('currency'), 'usd');
    assert.equal(seen?.form.get('description'), 'Pro plan');
    assert.equal(seen?.headers['idempotency-key'], body.idempotencyKey);
    assert.match(body.idempotencyKey, /^[0-9a-f-]{36}$/);
  });

  it("passes the client's Idempotency-Key through", async () => {
    const res = await post({ amount: 100, currency: 'eur' }, { 'idempotency-key': 'order-2024-0001' });
    assert.equal(res.statusCode, 201);
    assert.equal(api.seen.at(-1)?.headers['idempotency-key'], 'order-2024-0001');
  });

  const invalid: [string, unknown, string][] = [
    ['a negative amount', { amount: -100, currency: 'usd' }, 'amount'],
    ['a zero amount', { amount: 0, currency: 'usd' }, 'amount'],
    ['a fractional amount', { amount: 10.5, currency: 'usd' }, 'amount'],
    ['an amount given as a string', { amount: '100', currency: 'usd' }, 'amount'],
    ['an amount above the limit', { amount: MAX_AMOUNT_CENTS + 1, currency: 'usd' }, 'amount'],
    ['a missing amount', { currency: 'usd' }, 'amount'],
    ['an unknown currency', { amount: 100, currency: 'xyz' }, 'currency'],
    ['a missing currency', { amount: 100 }, 'currency'],
    ['an unexpected field', { amount: 100, currency: 'usd', customer: 'cus_1' }, 'customer'],
    ['a body that is not an object', [1, 2], 'body'],
    ['malformed JSON', '{"amount": 100,', 'body'],
  ];

  for (const [name, payload, field] of invalid) {
    it(`rejects ${name} with 400 naming ${field}, calling no one`, async () => {
      const calls = api.seen.length;
      const res = await post(payload);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().field, field);
      assert.equal(api.seen.length, calls);
    });
  }

  it('rejects a too-short Idempotency-Key', async () => {
    const res = await post({ amount: 100, currency: 'usd' }, { 'idempotency-key': 'abc' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().field, 'idempotency-key');
  });

  it('rejects a body over the size limit with 413', async () => {
    const calls = api.seen.length;
    const res = await post({ amount: 100, currency: 'usd', description: 'x'.repeat(CHECKOUT_BODY_LIMIT) });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().field, 'body');
    assert.equal(api.seen.length, calls);
  });

  it('rejects a non-JSON body naming the body', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/checkout', payload: 'amount=1', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().field, 'body');
  });

  it('rejects an unsupported media type with 415', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/checkout', payload: '<a/>', headers: { 'content-type': 'application/xml' } });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().field, 'body');
  });
});

describe('POST /api/checkout when Stripe fails', () => {
  it('answers 502 for a provider error and 409 for an idempotency conflict', async () => {
    let kind = 'invalid_request_error';
    const api = await fakeStripeApi(() => ({ status: 400, body: { error: { type: kind, message: 'nope' } } }));
    const config = testConfig({}, { STRIPE_API_BASE: api.url });
    const t = await makeApp({ config, stripe: createStripe(config.stripe) });
    try {
      const post = () =>
        t.app.inject({ method: 'POST', url: '/api/checkout', payload: { amount: 100, currency: 'usd' } });
      const res = await post();
      assert.equal(res.statusCode, 502);
      assert.match(res.json().error, /payment provider error: nope/);
      kind = 'idempotency_error';
      assert.equal((await post()).statusCode, 409);
    } finally {
      await t.close();
      await api.close();
    }
  });

  it('answers 500 without details for unexpected errors', async () => {
    const config = testConfig();
    const stripe = createStripe(config.stripe);
    stripe.paymentIntents.create = (() => Promise.reject(new Error('secret internals'))) as never;
    const t = await makeApp({ config, stripe });
    try {
      const res = await t.app.inject({ method: 'POST', url: '/api/checkout', payload: { amount: 100, currency: 'usd' } });
      assert.equal(res.statusCode, 500);
      assert.deepEqual(res.json(), { error: 'internal error' });
    } finally {
      await t.close();
    }
  });
});
