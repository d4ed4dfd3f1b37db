import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { checkStripeSettings, createStripe } from '../src/stripe/client.js';

describe('createStripe', () => {
  it('points the SDK at stripe-mock when STRIPE_API_BASE is set', () => {
    const stripe = createStripe(loadConfig({ STRIPE_API_BASE: 'http://127.0.0.1:12111' }).stripe);
    assert.equal(stripe.getApiField('host'), '127.0.0.1');
    assert.equal(stripe.getApiField('port'), 12111);
    assert.equal(stripe.getApiField('protocol'), 'http');
    assert.equal(stripe.getMaxNetworkRetries(), 0);
  });

  it('uses default ports when the URL has none', () => {
    assert.equal(createStripe(loadConfig({ STRIPE_API_BASE: 'https://127.0.0.1' }).stripe).getApiField('port'), 443);
    assert.equal(createStripe(loadConfig({ STRIPE_API_BASE: 'http://127.0.0.1' }).stripe).getApiField('port'), 80);
  });

  it('talks to Stripe itself, with retries, when no base is set', () => {
    const stripe = createStripe(loadConfig({}).stripe);
    assert.equal(stripe.getMaxNetworkRetries(), 2);
  });
});

describe('checkStripeSettings', () => {
  const settings = (env: NodeJS.ProcessEnv) => loadConfig(env).stripe;

  it('accepts test keys against Stripe or stripe-mock', () => {
    assert.deepEqual(checkStripeSettings(settings({}), 'development'), { ok: true, detail: 'test key, Stripe' });
    assert.match(checkStripeSettings(settings({ STRIPE_API_BASE: 'http://127.0.0.1:9' }), 'test').detail, /stripe-mock at http:\/\/127.0.0.1:9/);
  });

  it('accepts live keys only in production', () => {
    assert.equal(checkStripeSettings(settings({ STRIPE_SECRET_KEY: 'rk_live_1' }), 'production').ok, true);
    assert.equal(checkStripeSettings(settings({ STRIPE_SECRET_KEY: 'rk_live_1' }), 'staging').ok, false);
  });
});
