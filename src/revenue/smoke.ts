/**
 * The smoke test of an environment: health and readiness, the configured routes, and where the
 * config declares revenue protection a Stripe-signed test event that must be accepted and then
 * counted by the revenue tracker, and a forged one that must be refused (400, 401 or 403).
 */
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { reason, request } from './http.js';

/** One named check and how it went. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** Where to probe, and with what. */
export interface SmokeTarget {
  /** The environment's stable URL (its proxy). */
  url: string;
  healthPath: string;
  readyPath: string;
  /** Routes that must answer 200. */
  routes: string[];
  /** The Stripe-signed events, where the config has a revenue block; the secret is its value, resolved on the worker. */
  revenue?: { webhookPath: string; revenuePath: string; webhookSecret: string };
}

/** What an app that refuses a forged webhook answers; anything else (a 404, a 5xx) is not a refusal. */
export const REFUSALS = [400, 401, 403];

/** The revenue tracker's answer, as far as the checks need it. */
export interface RevenueReading {
  revenueCents: number;
  eventCount: number;
}

// Signing needs no API key or network; the SDK's webhook helpers are pure functions.
const stripe = new Stripe('sk_test_tollgate_smoke_signing_only', { telemetry: false, maxNetworkRetries: 0 });

/** Reads the revenue tracker (GET revenuePath): revenueCents and eventCount. */
export async function readRevenue(baseUrl: string, path: string): Promise<RevenueReading> {
  const { status, body } = await request(`${baseUrl}${path}`);
  if (status !== 200) throw new Error(`GET ${path} answered ${status}`);
  const json = JSON.parse(body) as Partial<RevenueReading>;
  if (typeof json.revenueCents !== 'number' || typeof json.eventCount !== 'number') {
    throw new Error(`GET ${path} did not report revenueCents and eventCount`);
  }
  return { revenueCents: json.revenueCents, eventCount: json.eventCount };
}

/** A payment_intent.succeeded test event (livemode false) for `amount` cents (of a given PaymentIntent). */
export function testPaymentEvent(amount: number, of: { currency?: string; intentId?: string } = {}): string {
  const id = randomUUID().replace(/-/g, '').slice(0, 24);
  return JSON.stringify({
    id: `evt_tollgate_smoke_${id}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    livemode: false,
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: of.intentId ?? `pi_tollgate_smoke_${id}`,
        object: 'payment_intent',
        amount,
        amount_received: amount,
        currency: of.currency ?? 'usd',
      },
    },
  });
}

/** The Stripe-Signature header for `payload`, as Stripe would send it. */
export function signPayload(payload: string, secret: string): string {
  return stripe.webhooks.generateTestHeaderString({ payload, secret });
}

/** Runs every smoke check; returns them all (the caller decides what a failure means). */
export async function runSmokeChecks(target: SmokeTarget): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const check = async (name: string, fn: () => Promise<string>): Promise<void> => {
    try {
      results.push({ name, ok: true, detail: await fn() });
    } catch (error) {
      results.push({ name, ok: false, detail: reason(error) });
    }
  };
  const expect200 = async (path: string): Promise<string> => {
    const { status, latencyMs } = await request(`${target.url}${path}`);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}`);
    return `200 in ${latencyMs.toFixed(0)} ms`;
  };

  await check('health', () => expect200(target.healthPath));
  await check('readiness', () => expect200(target.readyPath));
  for (const route of target.routes) await check(`route ${route}`, () => expect200(route));
  if (!target.revenue) return results;

  const { webhookPath, revenuePath, webhookSecret } = target.revenue;
  await check('signed webhook counted', async () => {
    const before = await readRevenue(target.url, revenuePath);
    const payload = testPaymentEvent(100);
    const { status } = await request(`${target.url}${webhookPath}`, {
      method: 'POST',
      body: payload,
      headers: {
        'content-type': 'application/json',
        'stripe-signature': signPayload(payload, webhookSecret),
      },
    });
    if (status !== 200) throw new Error(`a correctly signed test event was answered ${status}`);
    const after = await readRevenue(target.url, revenuePath);
    if (after.eventCount !== before.eventCount + 1 || after.revenueCents !== before.revenueCents + 100) {
      throw new Error(
        `the event was accepted but not counted: eventCount ${before.eventCount} → ${after.eventCount}, revenueCents ${before.revenueCents} → ${after.revenueCents}`,
      );
    }
    return `accepted and counted (eventCount ${after.eventCount})`;
  });
  await check('forged webhook refused', async () => {
    const payload = testPaymentEvent(100);
    const forged = signPayload(payload, 'whsec_forged_by_tollgate_smoke_test');
    const { status } = await request(`${target.url}${webhookPath}`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': forged },
    });
    if (!REFUSALS.includes(status)) {
      const why = status === 404 ? ` (is ${webhookPath} the app's webhook route?)` : '';
      throw new Error(
        `a forged event was answered ${status}${why}, expected a refusal: ${REFUSALS.join(', ')}`,
      );
    }
    return `refused with ${status}`;
  });
  return results;
}
