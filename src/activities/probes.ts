/**
 * Tops a canary's thin traffic up (issue 18): while a step runs, probes go through the
 * environment's proxy (so they split by weight as customers do, and are counted per release,
 * apart, as synthetic) on the config's smoke routes, only as many as the real traffic lacks for
 * the target rate. With payment probes, Stripe test-mode payments too: a checkout at the canary's
 * checkout path, then the test-mode `payment_intent.succeeded` event Stripe would send for it,
 * signed with the webhook secret, both with the same probe key (so both reach the same release),
 * topped up to their own rate. Bounded: at most the rates in total, at most MAX_IN_FLIGHT at
 * once, for at most `durationMs`, and it stops when the workflow cancels it.
 */
import { randomUUID } from 'node:crypto';
import type { ReleaseTraffic } from '../environments/environment.js';
import { PROBE_HEADER } from '../environments/local/routing.js';
import { isTestKey } from '../revenue/live-key-guard.js';
import { signPayload, testPaymentEvent } from '../revenue/smoke.js';
import type { PaymentProbePlan, ProbeReport } from '../types.js';

/** Probes in flight at once: a slow release must not make the probe generator a flood. */
const MAX_IN_FLIGHT = 32;
/** How often the generator looks at the real traffic and tops it up. */
const TICK_MS = 250;

/** Payment probes ready to send: the plan and the webhook secret's value (resolved on the worker). */
export interface PaymentProbes {
  plan: PaymentProbePlan;
  webhookSecret: string;
}

/**
 * The payment probes an environment may get, or why none: only where the environment hands its
 * releases their Stripe key (the plan's `stripeKeySecret` among its secrets, so the key the app uses
 * is the one the worker holds) and that key is a test key, never a live one.
 */
export function paymentProbes(
  plan: PaymentProbePlan,
  source: NodeJS.ProcessEnv,
  environmentSecrets: readonly string[],
): { probes: PaymentProbes } | { refused: string } {
  if (!environmentSecrets.includes(plan.stripeKeySecret)) {
    return {
      refused: `${plan.stripeKeySecret} is not among the environment's secrets, so Tollgate cannot see the key its releases use`,
    };
  }
  const key = source[plan.stripeKeySecret]?.trim();
  if (!key) return { refused: `${plan.stripeKeySecret} is not set where the worker runs` };
  if (!isTestKey(key)) {
    return {
      refused: `${plan.stripeKeySecret} is not a Stripe test key (sk_test_ or rk_test_): payment probes never run against a live key`,
    };
  }
  const webhookSecret = source[plan.webhookSecret];
  if (!webhookSecret) return { refused: `${plan.webhookSecret} is not set where the worker runs` };
  return { probes: { plan, webhookSecret } };
}

/** How many probes a tick owes: the rate's share of the tick, less what real traffic sent in it. */
function meter(ratePerSecond: number): (real: number) => number {
  let owed = 0;
  let last: number | undefined;
  return (real) => {
    owed = Math.max(0, owed + (ratePerSecond * TICK_MS) / 1000 - Math.max(0, real - (last ?? real)));
    last = real;
    const due = Math.floor(owed);
    owed -= due;
    return due;
  };
}

/** Sends probes until `durationMs` passed or `signal` aborts; `beat` is called every tick. */
export async function topUpTraffic(args: {
  url: string;
  routes: readonly string[];
  ratePerSecond: number;
  durationMs: number;
  counters: () => Promise<Record<string, ReleaseTraffic>>;
  signal: AbortSignal;
  beat: (report: ProbeReport) => void;
  payments?: PaymentProbes;
}): Promise<ProbeReport> {
  const report: ProbeReport = {
    sent: 0,
    failed: 0,
    ...(args.payments ? { payments: { sent: 0, failed: 0, events: 0 } } : {}),
  };
  const real = async (): Promise<{ requests: number; checkouts: number }> => {
    const all = Object.values(await args.counters().catch(() => ({})));
    return {
      requests: all.reduce((sum, c) => sum + c.requests - (c.synthetic ?? 0), 0),
      checkouts: all.reduce((sum, c) => sum + (c.checkout?.attempts ?? 0) - (c.checkout?.synthetic ?? 0), 0),
    };
  };
  const requests = meter(args.ratePerSecond);
  const checkouts = meter(args.payments?.plan.ratePerSecond ?? 0);
  const ends = Date.now() + args.durationMs;
  const inFlight = new Set<Promise<void>>();
  const send = (probe: () => Promise<void>): void => {
    const running = probe().finally(() => inFlight.delete(running));
    inFlight.add(running);
  };
  const first = await real();
  requests(first.requests);
  checkouts(first.checkouts);
  while (Date.now() < ends && !args.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    const now = await real();
    // Probes the cap holds back are not owed later: a burst would distort the step's traffic.
    for (let due = requests(now.requests); due > 0 && inFlight.size < MAX_IN_FLIGHT; due--) {
      const n = report.sent++;
      send(() => getProbe(args.url, args.routes[n % args.routes.length] ?? '/', `probe-${n % 1000}`, report));
    }
    const payments = args.payments;
    for (let due = checkouts(now.checkouts); payments && due > 0 && inFlight.size < MAX_IN_FLIGHT; due--) {
      const n = report.payments!.sent++;
      send(() => paymentProbe(args.url, payments, `payment-probe-${n % 1000}`, report.payments!));
    }
    args.beat(report);
  }
  await Promise.all(inFlight);
  return report;
}

/** One GET probe; a 5xx or no answer counts as failed. */
async function getProbe(url: string, route: string, key: string, report: ProbeReport): Promise<void> {
  try {
    const response = await fetch(`${url}${route}`, {
      headers: { [PROBE_HEADER]: key },
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    if (response.status >= 500) report.failed++;
  } catch {
    report.failed++;
  }
}

/**
 * One test-mode payment: a checkout (the app creates a test-mode PaymentIntent), then the signed
 * `payment_intent.succeeded` event for it to the webhook path. A checkout that is not 2xx, or an
 * event the app refuses, counts as failed; the proxy counts the checkout for its release either way.
 */
async function paymentProbe(
  url: string,
  { plan, webhookSecret }: PaymentProbes,
  key: string,
  report: NonNullable<ProbeReport['payments']>,
): Promise<void> {
  try {
    const checkout = await fetch(`${url}${plan.checkoutPath}`, {
      method: 'POST',
      headers: {
        [PROBE_HEADER]: key,
        'content-type': 'application/json',
        'idempotency-key': `tollgate-probe-${randomUUID()}`,
      },
      body: JSON.stringify({
        amount: plan.amount,
        currency: plan.currency,
        description: 'tollgate canary probe (Stripe test mode)',
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = await checkout.text();
    if (checkout.status < 200 || checkout.status >= 300) {
      report.failed++;
      return;
    }
    const intent = (JSON.parse(body) as { id?: unknown }).id;
    const payload = testPaymentEvent(plan.amount, {
      currency: plan.currency,
      ...(typeof intent === 'string' ? { intentId: intent } : {}),
    });
    const event = await fetch(`${url}${plan.webhookPath}`, {
      method: 'POST',
      headers: {
        [PROBE_HEADER]: key,
        'content-type': 'application/json',
        'stripe-signature': signPayload(payload, webhookSecret),
      },
      body: payload,
      signal: AbortSignal.timeout(10_000),
    });
    await event.arrayBuffer();
    if (event.status >= 200 && event.status < 300) report.events++;
    else report.failed++;
  } catch {
    report.failed++;
  }
}
