/**
 * Payment flows against stripe-mock through the real Stripe SDK and the real HTTP handlers:
 * PaymentIntent creation, webhook signature accepted, wrong secret / stale timestamp /
 * missing header / forged signature rejected. Refuses live keys.
 */
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { DEFAULT_STRIPE_KEY, isTestKey } from '../src/config.js';
import { createStripe } from '../src/stripe/client.js';
import { Checks, exitCleanlyOnSignals, expect, startApp } from './lib/harness.js';
import { startStripeMock } from './lib/stripe-mock.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const WEBHOOK_SECRET = 'whsec_test_stripe_stage';

async function main(): Promise<number> {
  exitCleanlyOnSignals();
  const key = process.env.STRIPE_SECRET_KEY || DEFAULT_STRIPE_KEY;
  if (!isTestKey(key)) {
    console.error('test:stripe: refusing to run: STRIPE_SECRET_KEY is not an sk_test_/rk_test_ key');
    return 1;
  }
  const mock = await startStripeMock(process.env, appDir);
  console.log(`test:stripe: stripe-mock at ${mock.url} (${mock.source})`);
  const app = await startApp({ STRIPE_SECRET_KEY: key, STRIPE_API_BASE: mock.url, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  const checks = new Checks('test:stripe');
  const event = {
    id: `evt_stage_${process.pid}_${Date.now()}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    livemode: false,
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: `pi_stage_${process.pid}`, object: 'payment_intent', amount_received: 4900, currency: 'usd' } },
  };
  const payload = JSON.stringify(event);
  const deliver = (signature: string | undefined) =>
    fetch(`${app.url}/webhooks/stripe`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'stripe-signature': signature } : {}) },
    });
  const sign = (secret: string, timestamp?: number) =>
    Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp !== undefined ? { timestamp } : {}) });
  const expectRejected = async (signature: string | undefined) => {
    const res = await deliver(signature);
    const body = (await res.json()) as { field?: string };
    expect(res.status === 400 && body.field === 'stripe-signature', `expected 400 on stripe-signature, got ${res.status} ${JSON.stringify(body)}`);
    return `400 ${body.field}`;
  };

  try {
    await checks.run('PaymentIntent created through the SDK with an idempotency key', async () => {
      const stripe = createStripe({ secretKey: key, apiBase: new URL(mock.url), webhookSecret: WEBHOOK_SECRET });
      const intent = await stripe.paymentIntents.create(
        { amount: 2000, currency: 'usd', automatic_payment_methods: { enabled: true } },
        { idempotencyKey: `stage-${process.pid}-${Date.now()}` },
      );
      expect(intent.id.startsWith('pi_'), `unexpected id ${intent.id}`);
      return intent.id;
    });

    await checks.run('POST /api/checkout creates a PaymentIntent', async () => {
      const res = await fetch(`${app.url}/api/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `checkout-${process.pid}-${Date.now()}` },
        body: JSON.stringify({ amount: 4900, currency: 'usd', description: 'Pro plan' }),
      });
      const body = (await res.json()) as { id?: string; clientSecret?: string };
      expect(res.status === 201, `expected 201, got ${res.status} ${JSON.stringify(body)}`);
      expect(body.id?.startsWith('pi_') === true && typeof body.clientSecret === 'string', JSON.stringify(body));
      return `${res.status} ${body.id}`;
    });

    await checks.run('POST /api/checkout rejects an invalid amount before calling Stripe', async () => {
      const res = await fetch(`${app.url}/api/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: -1, currency: 'usd' }),
      });
      expect(res.status === 400, `expected 400, got ${res.status}`);
    });

    await checks.run('stripe-mock refuses a live-shaped key', async () => {
      const live = createStripe({ secretKey: 'sk_live_not_a_real_key', apiBase: new URL(mock.url), webhookSecret: WEBHOOK_SECRET });
      try {
        await live.paymentIntents.create({ amount: 100, currency: 'usd' });
      } catch (error) {
        expect(error instanceof Stripe.errors.StripeAuthenticationError, `unexpected ${String(error)}`);
        return 'StripeAuthenticationError';
      }
      throw new Error('a live key was accepted');
    });

    await checks.run('signed webhook accepted and counted', async () => {
      const res = await deliver(sign(WEBHOOK_SECRET));
      const body = (await res.json()) as { counted?: boolean };
      expect(res.status === 200 && body.counted === true, `got ${res.status} ${JSON.stringify(body)}`);
      const revenue = (await (await fetch(`${app.url}/metrics/revenue`)).json()) as { revenueCents: number };
      expect(revenue.revenueCents === 4900, `revenue is ${revenue.revenueCents}, expected 4900`);
      return '200, revenue 4900 cents';
    });

    await checks.run('redelivered webhook answered 200 and not counted twice', async () => {
      const res = await deliver(sign(WEBHOOK_SECRET));
      const body = (await res.json()) as { status?: string };
      expect(res.status === 200 && body.status === 'duplicate-event', `got ${res.status} ${JSON.stringify(body)}`);
      const revenue = (await (await fetch(`${app.url}/metrics/revenue`)).json()) as { revenueCents: number };
      expect(revenue.revenueCents === 4900, `revenue is ${revenue.revenueCents}`);
    });

    await checks.run('wrong secret rejected', () => expectRejected(sign('whsec_wrong_secret')));
    await checks.run('stale timestamp rejected', () => expectRejected(sign(WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 600)));
    await checks.run('missing header rejected', () => expectRejected(undefined));
    await checks.run('forged signature rejected', () => expectRejected(`t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`));
  } finally {
    await app.stop();
    await mock.stop();
  }
  return checks.finish();
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test:stripe: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
