import type { FastifyInstance } from 'fastify';
import type { MarketDocument } from '../rag/corpus.js';
import type { Services } from '../app.js';

/** Longest question the insights endpoint accepts, in characters. */
export const MAX_QUERY_LENGTH = 200;

const schema = {
  querystring: {
    type: 'object',
    required: ['q'],
    properties: { q: { type: 'string', minLength: 1, maxLength: MAX_QUERY_LENGTH, pattern: '\\S' } },
  },
} as const;

/** GET /api/insights?q=: retrieval over the corpus, an answer with citations, optionally LLM-polished. */
export function insightRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { q: string } }>('/api/insights', { schema }, async (request) => {
    const query = request.query.q.trim();
    const insight = services.engine.answer(query);
    if (services.refiner === undefined || insight.citations.length === 0) return insight;
    const passages = insight.citations.map((c) => services.engine.document(c.id) as MarketDocument);
    try {
      const answer = await services.refiner(query, insight.answer, passages);
      return { ...insight, answer, refined: true };
    } catch (error) {
      request.log.warn({ err: error }, 'LLM refinement failed; serving the extractive answer');
      return insight;
    }
  });
}
