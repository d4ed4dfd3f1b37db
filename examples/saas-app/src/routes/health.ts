import type { FastifyInstance } from 'fastify';
import { readinessChecks } from '../readiness.js';
import type { Services } from '../app.js';

/** GET /healthz (process alive) and GET /readyz (dependencies ready), both JSON. */
export function healthRoutes(app: FastifyInstance, services: Services): void {
  const { config } = services;
  const startedAt = Date.now();

  app.get('/healthz', async (_request, reply) => {
    if (config.fault === 'healthz') {
      return reply.code(503).send({ status: 'failing', reason: 'SAAS_FAULT=healthz' });
    }
    return { status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) };
  });

  app.get('/readyz', async (_request, reply) => {
    const checks = readinessChecks({
      db: services.db,
      ledger: services.ledger,
      engine: services.engine,
      stripe: config.stripe,
      nodeEnv: config.nodeEnv,
    });
    if (config.fault === 'healthz') {
      checks.push({ name: 'fault', ok: false, detail: 'SAAS_FAULT=healthz' });
    }
    const ready = checks.every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
