import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { buildApp, type AppOptions, type Services } from '../src/app.js';
import { loadConfig, type AppConfig } from '../src/config.js';
import { openDatabase, type Db } from '../src/db.js';

/** The webhook secret the test apps verify with. */
export const TEST_SECRET = 'whsec_unit_test_secret';

/** A config for tests: ignores the caller's environment entirely, so SAAS_FAULT never leaks in. */
export function testConfig(overrides: Partial<AppConfig> = {}, env: NodeJS.ProcessEnv = {}): AppConfig {
  const base = loadConfig({ STRIPE_WEBHOOK_SECRET: TEST_SECRET, ...env });
  return { ...base, ...overrides };
}

/** An app built for a test, with its database and a close() for both. */
export interface TestApp {
  app: FastifyInstance;
  services: Services;
  db: Db;
  close: () => Promise<void>;
}

/** Builds the app on an in-memory database with logging off. */
export async function makeApp(options: Partial<AppOptions> = {}): Promise<TestApp> {
  const db = options.db ?? openDatabase(':memory:');
  const { app, services } = await buildApp({ config: testConfig(), logger: false, refiner: undefined, ...options, db });
  await app.ready();
  return {
    app,
    services,
    db,
    close: async () => {
      await app.close();
      if (db.open) db.close();
    },
  };
}

/** A Stripe-signed webhook delivery for the given event. */
export function signed(
  event: unknown,
  options: { secret?: string; timestamp?: number } = {},
): { payload: string; headers: Record<string, string> } {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? TEST_SECRET,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
  return { payload, headers: { 'content-type': 'application/json', 'stripe-signature': header } };
}

let counter = 0;
/** A minimal Stripe event of the given type around the given object. */
export function stripeEvent(type: string, object: Record<string, unknown>, id?: string): Record<string, unknown> {
  counter += 1;
  return {
    id: id ?? `evt_test_${process.pid}_${counter}`,
    object: 'event',
    type,
    livemode: false,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  };
}

/** Delivers an event to the app's webhook through inject. */
export async function deliver(app: FastifyInstance, event: unknown, options: { secret?: string; timestamp?: number } = {}) {
  const { payload, headers } = signed(event, options);
  return app.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers });
}

/** One request seen by the fake Stripe API. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
}

/** A loopback HTTP server that answers like Stripe's PaymentIntents API. */
export async function fakeStripeApi(
  respond: (req: SeenRequest) => { status: number; body: unknown } = (req) => ({
    status: 200,
    body: {
      id: 'pi_fake_1',
      object: 'payment_intent',
      amount: Number(req.form.get('amount')),
      currency: req.form.get('currency'),
      status: 'requires_payment_method',
      client_secret: 'pi_fake_1_secret_abc',
    },
  }),
): Promise<{ url: string; seen: SeenRequest[]; close: () => Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const request: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        form: new URLSearchParams(raw),
      };
      seen.push(request);
      const { status, body } = respond(request);
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
