import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import type { AppConfig } from './config.js';
import type { Db } from './db.js';
import { errorHandler } from './errors.js';
import { createRefiner, type Refiner } from './llm/refine.js';
import { AppMetrics } from './metrics.js';
import { InsightEngine } from './rag/engine.js';
import { RevenueLedger } from './revenue/ledger.js';
import { checkoutRoutes } from './routes/checkout.js';
import { healthRoutes } from './routes/health.js';
import { insightRoutes } from './routes/insights.js';
import { metricsRoutes } from './routes/metrics.js';
import { webhookRoutes } from './routes/webhooks.js';
import { createStripe } from './stripe/client.js';

/** Everything the routes need, built once per app instance. */
export interface Services {
  config: AppConfig;
  db: Db;
  ledger: RevenueLedger;
  engine: InsightEngine;
  stripe: Stripe;
  metrics: AppMetrics;
  refiner: Refiner | undefined;
}

/** Default body size limit for JSON routes. */
export const DEFAULT_BODY_LIMIT = 16 * 1024;
/** Delay added to every request under SAAS_FAULT=slow. */
export const SLOW_FAULT_DELAY_MS = 1_500;

/** Under SAAS_FAULT=errors, one request in this many (health and metrics aside) answers 500. */
export const ERRORS_FAULT_EVERY = 10;

/** What buildApp needs; everything but config and db has a production default. */
export interface AppOptions {
  config: AppConfig;
  db: Db;
  stripe?: Stripe;
  engine?: InsightEngine;
  refiner?: Refiner | undefined;
  now?: () => Date;
  logger?: boolean;
  defaultMetrics?: boolean;
}

/** Builds the Fastify app with all routes; the caller owns the database and listening. */
export async function buildApp(options: AppOptions): Promise<{ app: FastifyInstance; services: Services }> {
  const { config, db } = options;
  const ledger = new RevenueLedger(db, options.now);
  const services: Services = {
    config,
    db,
    ledger,
    engine: options.engine ?? new InsightEngine(),
    stripe: options.stripe ?? createStripe(config.stripe),
    metrics: new AppMetrics(ledger, { defaultMetrics: options.defaultMetrics ?? false }),
    refiner: 'refiner' in options ? options.refiner : createRefiner(config.llm),
  };

  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["stripe-signature"]'] },
    bodyLimit: DEFAULT_BODY_LIMIT,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  if (config.fault === 'slow') {
    app.addHook('onRequest', async () => {
      await sleep(SLOW_FAULT_DELAY_MS);
    });
  }
  if (config.fault === 'errors') {
    let served = 0;
    app.addHook('onRequest', async (request, reply) => {
      if (/^\/(healthz|readyz|metrics)/.test(request.url)) return;
      if (++served % ERRORS_FAULT_EVERY === 0) {
        await reply.code(500).send({ error: 'SAAS_FAULT=errors' });
      }
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    services.metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));

  healthRoutes(app, services);
  checkoutRoutes(app, services);
  insightRoutes(app, services);
  metricsRoutes(app, services);
  await app.register(async (scope) => webhookRoutes(scope, services));
  return { app, services };
}
