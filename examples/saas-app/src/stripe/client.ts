import Stripe from 'stripe';
import { isLiveKey, isTestKey, type StripeSettings } from '../config.js';

/** Builds the Stripe SDK client, pointed at stripe-mock when an API base is configured. */
export function createStripe(settings: StripeSettings): Stripe {
  const base = settings.apiBase;
  if (base === undefined) {
    return new Stripe(settings.secretKey, { maxNetworkRetries: 2, timeout: 10_000, telemetry: false });
  }
  const protocol = base.protocol === 'https:' ? 'https' : 'http';
  const port = base.port !== '' ? Number(base.port) : protocol === 'https' ? 443 : 80;
  return new Stripe(settings.secretKey, {
    host: base.hostname,
    port,
    protocol,
    maxNetworkRetries: 0,
    timeout: 10_000,
    telemetry: false,
  });
}

/** Result of the Stripe readiness check. */
export interface StripeCheck {
  ok: boolean;
  detail: string;
}

/** Ready when the key is a test key (Stripe test mode or stripe-mock), or a live key in production. */
export function checkStripeSettings(settings: StripeSettings, nodeEnv: string): StripeCheck {
  const target = settings.apiBase === undefined ? 'Stripe' : `stripe-mock at ${settings.apiBase.origin}`;
  if (!settings.webhookSecret.startsWith('whsec_')) {
    return { ok: false, detail: 'STRIPE_WEBHOOK_SECRET must start with whsec_' };
  }
  if (isTestKey(settings.secretKey)) return { ok: true, detail: `test key, ${target}` };
  if (isLiveKey(settings.secretKey)) {
    return nodeEnv === 'production'
      ? { ok: true, detail: `live key, ${target}` }
      : { ok: false, detail: 'live key outside NODE_ENV=production' };
  }
  return { ok: false, detail: 'STRIPE_SECRET_KEY is not an sk_/rk_ test or live key' };
}
