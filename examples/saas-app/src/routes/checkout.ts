import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import type { Services } from '../app.js';

/** Largest amount a single checkout may charge, in cents ($10,000). */
export const MAX_AMOUNT_CENTS = 1_000_000;
/** Currencies the checkout accepts (all with two decimal places). */
export const CURRENCIES = ['usd', 'eur', 'gbp', 'cad', 'aud'] as const;
/** Body size limit for checkout requests. */
export const CHECKOUT_BODY_LIMIT = 4 * 1024;

interface CheckoutBody {
  amount: number;
  currency: (typeof CURRENCIES)[number];
  description?: string;
}

const schema = {
  body: {
    type: 'object',
    required: ['amount', 'currency'],
    additionalProperties: false,
    properties: {
      amount: { type: 'integer', minimum: 1, maximum: MAX_AMOUNT_CENTS },
      currency: { type: 'string', enum: CURRENCIES },
      description: { type: 'string', maxLength: 200 },
    },
  },
  headers: {
    type: 'object',
    properties: {
      'idempotency-key': { type: 'string', minLength: 8, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
    },
  },
} as const;

/** POST /api/checkout: creates a PaymentIntent with an idempotency key. */
export function checkoutRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Body: CheckoutBody }>(
    '/api/checkout',
    { schema, bodyLimit: CHECKOUT_BODY_LIMIT },
    async (request, reply) => {
      const { amount, currency, description } = request.body;
      const header = request.headers['idempotency-key'];
      const idempotencyKey = typeof header === 'string' ? header : randomUUID();
      try {
        const intent = await services.stripe.paymentIntents.create(
          {
            amount,
            currency,
            ...(description !== undefined ? { description } : {}),
            automatic_payment_methods: { enabled: true },
            metadata: { source: 'saas-app' },
          },
          { idempotencyKey },
        );
        return reply.code(201).send({
          id: intent.id,
          clientSecret: intent.client_secret,
          amount: intent.amount,
          currency: intent.currency,
          status: intent.status,
          idempotencyKey,
        });
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripeError)) throw error;
        request.log.warn({ type: error.type, code: error.code }, 'stripe rejected the payment intent');
        const status = error.type === 'StripeIdempotencyError' ? 409 : 502;
        return reply.code(status).send({ error: `payment provider error: ${error.message}` });
      }
    },
  );
}
