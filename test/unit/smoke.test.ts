/**
 * The smoke checks against real HTTP servers: an app that verifies Stripe signatures (with the real
 * SDK) passes; the forged-event check passes only on a refusal (400/401/403), never because the app
 * has no webhook route (404) or broke (500); without a revenue block no webhook is ever sent.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import Stripe from 'stripe';
import { runSmokeChecks, type CheckResult } from '../../src/revenue/smoke.js';

const SECRET = 'whsec_smoke_unit_test';
const stripe = new Stripe('sk_test_smoke_unit', { telemetry: false, maxNetworkRetries: 0 });
const closers: (() => void)[] = [];
after(() => closers.forEach((close) => close()));

/** An app on a free loopback port; `webhook` answers POST /webhooks/stripe; every request is recorded. */
async function app(
  webhook?: (payload: string, signature: string, counted: () => void) => number,
): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  let revenueCents = 0;
  let eventCount = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const send = (status: number, json: unknown = {}) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (req.url === '/healthz' || req.url === '/readyz' || req.url === '/api/items') return send(200);
      if (req.url === '/metrics/revenue') return send(200, { revenueCents, eventCount });
      if (req.method === 'POST' && req.url === '/webhooks/stripe' && webhook) {
        const status = webhook(body, String(req.headers['stripe-signature'] ?? ''), () => {
          const event = JSON.parse(body) as { data: { object: { amount: number } } };
          revenueCents += event.data.object.amount;
          eventCount += 1;
        });
        return send(status);
      }
      send(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** A webhook handler that checks the signature with the Stripe SDK, as a real app does. */
function verifying(payload: string, signature: string, counted: () => void): number {
  try {
    stripe.webhooks.constructEvent(payload, signature, SECRET);
  } catch {
    return 400;
  }
  counted();
  return 200;
}

const target = (url: string, revenue = true) => ({
  url,
  healthPath: '/healthz',
  readyPath: '/readyz',
  routes: ['/api/items'],
  ...(revenue
    ? { revenue: { webhookPath: '/webhooks/stripe', revenuePath: '/metrics/revenue', webhookSecret: SECRET } }
    : {}),
});

const byName = (results: CheckResult[]) => new Map(results.map((r) => [r.name, r]));

describe('smoke checks', () => {
  it('an app that verifies signatures: the signed event is counted and the forged one refused', async () => {
    const { url } = await app(verifying);
    const results = await runSmokeChecks(target(url));
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results, null, 2),
    );
    assert.match(
      byName(results).get('signed webhook counted')!.detail,
      /accepted and counted \(eventCount 1\)/,
    );
    assert.equal(byName(results).get('forged webhook refused')!.detail, 'refused with 400');
  });

  it('an app with no webhook route fails both revenue checks: its 404 is not a refusal', async () => {
    const { url } = await app();
    const checks = byName(await runSmokeChecks(target(url)));
    assert.equal(checks.get('health')?.ok, true);
    assert.equal(checks.get('route /api/items')?.ok, true);
    assert.equal(checks.get('signed webhook counted')?.ok, false);
    const forged = checks.get('forged webhook refused');
    assert.equal(forged?.ok, false);
    assert.match(
      forged.detail,
      /a forged event was answered 404 \(is \/webhooks\/stripe the app's webhook route\?\), expected a refusal: 400, 401, 403/,
    );
  });

  it('an app that crashes on the forged event (500) fails the forged check', async () => {
    const { url } = await app((payload, signature, counted) =>
      verifying(payload, signature, counted) === 200 ? 200 : 500,
    );
    const checks = byName(await runSmokeChecks(target(url)));
    assert.equal(checks.get('signed webhook counted')?.ok, true);
    assert.equal(checks.get('forged webhook refused')?.ok, false);
    assert.match(checks.get('forged webhook refused')!.detail, /answered 500, expected a refusal/);
  });

  it('without a revenue block: health, readiness and routes only; no webhook is sent', async () => {
    const { url, requests } = await app(verifying);
    const results = await runSmokeChecks(target(url, false));
    assert.deepEqual(
      results.map((r) => [r.name, r.ok]),
      [
        ['health', true],
        ['readiness', true],
        ['route /api/items', true],
      ],
    );
    assert.deepEqual(requests, ['GET /healthz', 'GET /readyz', 'GET /api/items']);
  });
});
