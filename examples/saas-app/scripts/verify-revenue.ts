/**
 * Sends a few hundred Stripe-signed events (payments, sessions that repeat a payment,
 * partial and repeated refunds, redeliveries, ignored types, forgeries) through the real
 * HTTP handler into a fresh database, then checks that the ledger, /metrics/revenue and
 * /metrics agree to the cent with a total computed independently from the generated events.
 */
import Stripe from 'stripe';
import { Checks, exitCleanlyOnSignals, expect, startApp } from './lib/harness.js';

const WEBHOOK_SECRET = 'whsec_verify_revenue';
const PAYMENTS = 220;
const CONCURRENCY = 8;

interface Delivery {
  event: Record<string, unknown>;
  forged: boolean;
}

/** Small deterministic PRNG (mulberry32) so a failing run can be replayed with the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function event(id: string, type: string, object: Record<string, unknown>): Record<string, unknown> {
  return { id, object: 'event', type, livemode: false, created: Math.floor(Date.now() / 1000), data: { object } };
}

/** Generates the deliveries and, independently of the app, the revenue they must add up to. */
function generate(seed: number): { deliveries: Delivery[]; expectedCents: number; refundedCharges: number } {
  const random = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const tag = `${seed.toString(36)}`;
  const deliveries: Delivery[] = [];
  let expectedCents = 0;
  let refundedCharges = 0;
  let n = 0;
  const nextId = () => `evt_vr_${tag}_${(n += 1)}`;

  for (let p = 0; p < PAYMENTS; p += 1) {
    const amount = int(100, 50_000);
    const pi = `pi_vr_${tag}_${p}`;
    const charge = `ch_vr_${tag}_${p}`;
    const roll = random();
    if (roll < 0.6) {
      deliveries.push({ forged: false, event: event(nextId(), 'payment_intent.succeeded', { id: pi, amount_received: amount, currency: 'usd' }) });
    } else if (roll < 0.85) {
      deliveries.push({ forged: false, event: event(nextId(), 'checkout.session.completed', { id: `cs_vr_${tag}_${p}`, payment_intent: pi, amount_total: amount, currency: 'usd' }) });
    } else {
      // Both the session and its PaymentIntent report the same payment: it counts once.
      deliveries.push({ forged: false, event: event(nextId(), 'checkout.session.completed', { id: `cs_vr_${tag}_${p}`, payment_intent: pi, amount_total: amount, currency: 'usd' }) });
      deliveries.push({ forged: false, event: event(nextId(), 'payment_intent.succeeded', { id: pi, amount_received: amount, currency: 'usd' }) });
    }
    expectedCents += amount;

    if (random() < 0.2) {
      // amount_refunded is cumulative per charge; deliveries may arrive out of order.
      const steps = int(1, 3);
      let cumulative = 0;
      const refunds: number[] = [];
      for (let s = 0; s < steps && cumulative < amount; s += 1) {
        cumulative = Math.min(amount, cumulative + int(1, Math.ceil(amount / 2)));
        refunds.push(cumulative);
      }
      if (random() < 0.3) refunds.reverse();
      for (const total of refunds) {
        deliveries.push({ forged: false, event: event(nextId(), 'charge.refunded', { id: charge, amount_refunded: total, currency: 'usd' }) });
      }
      // Whatever the arrival order, a charge ends up refunded by its largest cumulative amount.
      expectedCents -= Math.max(...refunds);
      refundedCharges += 1;
    }

    if (random() < 0.08) {
      deliveries.push({ forged: false, event: event(nextId(), 'customer.subscription.updated', { id: `sub_vr_${tag}_${p}` }) });
    }
    if (random() < 0.05) {
      deliveries.push({ forged: true, event: event(nextId(), 'payment_intent.succeeded', { id: `pi_forged_${tag}_${p}`, amount_received: 99_999, currency: 'usd' }) });
    }
  }

  // Stripe delivers at least once: redeliver about 15% of the genuine events.
  const genuine = deliveries.filter((d) => !d.forged);
  for (const d of genuine) if (random() < 0.15) deliveries.push({ forged: false, event: d.event });

  // Webhooks arrive in any order: shuffle everything (Fisher–Yates), redeliveries included.
  for (let i = deliveries.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j] as Delivery, deliveries[i] as Delivery];
  }
  return { deliveries, expectedCents, refundedCharges };
}

async function send(url: string, delivery: Delivery): Promise<{ status: number; counted: boolean }> {
  const payload = JSON.stringify(delivery.event);
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: delivery.forged ? 'whsec_attacker' : WEBHOOK_SECRET,
  });
  const res = await fetch(`${url}/webhooks/stripe`, {
    method: 'POST',
    body: payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
  });
  const body = (await res.json()) as { counted?: boolean };
  return { status: res.status, counted: body.counted === true };
}

async function main(): Promise<number> {
  exitCleanlyOnSignals();
  const seed = Number(process.env.VERIFY_REVENUE_SEED ?? Date.now() % 2_147_483_647);
  const { deliveries, expectedCents, refundedCharges } = generate(seed);
  const app = await startApp({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  const checks = new Checks('verify:revenue');
  console.log(`verify:revenue: seed ${seed} (set VERIFY_REVENUE_SEED to replay), database ${app.dbPath}`);

  try {
    const results: { status: number; counted: boolean; forged: boolean }[] = [];
    await checks.run(`${deliveries.length} deliveries sent through the HTTP handler`, async () => {
      const queue = [...deliveries];
      const worker = async () => {
        for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
          results.push({ ...(await send(app.url, d)), forged: d.forged });
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const forged = results.filter((r) => r.forged);
      const genuine = results.filter((r) => !r.forged);
      return `${genuine.length} genuine, ${forged.length} forged, ${results.filter((r) => r.counted).length} counted`;
    });

    await checks.run('every genuine delivery answered 200, every forged one 400', async () => {
      const bad = results.filter((r) => r.status !== (r.forged ? 400 : 200));
      expect(bad.length === 0, `${bad.length} unexpected statuses, e.g. ${JSON.stringify(bad[0])}`);
    });

    let ledgerRows = 0;
    await checks.run('ledger total equals the independently computed sum', async () => {
      const row = app.db
        .prepare(
          `SELECT COALESCE(SUM(amount_cents), 0) AS total, COUNT(*) AS n,
                  COUNT(*) FILTER (WHERE kind = 'payment') AS payments,
                  COUNT(DISTINCT object_id) FILTER (WHERE kind = 'refund') AS refunded
             FROM ledger_entries WHERE currency = 'usd'`,
        )
        .get() as { total: number; n: number; payments: number; refunded: number };
      ledgerRows = row.n;
      expect(row.total === expectedCents, `ledger ${row.total} cents, expected ${expectedCents}`);
      expect(row.payments === PAYMENTS, `ledger has ${row.payments} payments, expected ${PAYMENTS}`);
      expect(row.refunded === refundedCharges, `ledger refunds ${row.refunded} charges, expected ${refundedCharges}`);
      return `${row.total} cents expected and booked; ${row.payments} payments, ${row.refunded} refunded charges, ${row.n} rows`;
    });

    await checks.run('deliveries answered counted=true match the ledger rows', async () => {
      const counted = results.filter((r) => r.counted).length;
      expect(counted === ledgerRows, `counted ${counted}, ledger has ${ledgerRows} rows`);
    });

    await checks.run('/metrics/revenue agrees to the cent', async () => {
      const summary = (await (await fetch(`${app.url}/metrics/revenue`)).json()) as { revenueCents: number; eventCount: number; progress: number };
      expect(summary.revenueCents === expectedCents, `/metrics/revenue says ${summary.revenueCents}, expected ${expectedCents}`);
      expect(summary.eventCount === ledgerRows, `/metrics/revenue counts ${summary.eventCount} events, ledger has ${ledgerRows}`);
      return `${summary.revenueCents} cents, ${summary.eventCount} events, progress ${summary.progress}`;
    });

    await checks.run('/metrics gauge agrees to the cent', async () => {
      const text = await (await fetch(`${app.url}/metrics`)).text();
      const gauge = /^saas_revenue_today_cents (-?\d+)$/m.exec(text)?.[1];
      expect(Number(gauge) === expectedCents, `saas_revenue_today_cents is ${gauge}, expected ${expectedCents}`);
    });
  } finally {
    await app.stop();
  }
  return checks.finish();
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`verify:revenue: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
