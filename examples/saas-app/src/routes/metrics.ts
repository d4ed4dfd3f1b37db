import type { FastifyInstance } from 'fastify';
import type { Services } from '../app.js';

/** GET /metrics/revenue (today's revenue as JSON) and GET /metrics (Prometheus text). */
export function metricsRoutes(app: FastifyInstance, services: Services): void {
  app.get('/metrics/revenue', async () => services.ledger.summary());

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await services.metrics.render();
    return reply.type(contentType).send(body);
  });
}
