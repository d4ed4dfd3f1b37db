import type { FastifyInstance, FastifyReply } from 'fastify';
import Stripe from 'stripe';
import { isTestKey } from '../config.js';
import { badRequest } from '../errors.js';
import { EventShapeError, parseEnvelope, revenueChange } from '../revenue/events.js';
import type { Services } from '../app.js';

/** Seconds a signed event stays acceptable after its timestamp (replay protection). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Body size limit for webhook deliveries. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

function verify(services: Services, raw: Buffer, header: string, reply: FastifyReply): unknown {
  try {
    return services.stripe.webhooks.constructEvent(
      raw,
      header,
      services.config.stripe.webhookSecret,
      SIGNATURE_TOLERANCE_SECONDS,
    );
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
      badRequest(reply, 'stripe-signature', `signature verification failed: ${error.message}`);
    } else {
      badRequest(reply, 'body', 'malformed JSON body');
    }
    return undefined;
  }
}

/** POST /webhooks/stripe: verifies the signature on the raw body and books revenue once per event. */
export async function webhookRoutes(app: FastifyInstance, services: Services): Promise<void> {
  // The signature covers the exact bytes, so this scope keeps the body raw.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post('/webhooks/stripe', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
    const header = request.headers['stripe-signature'];
    if (typeof header !== 'string' || header === '') {
      return badRequest(reply, 'stripe-signature', 'missing Stripe-Signature header');
    }
    if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
      return badRequest(reply, 'body', 'empty body');
    }
    const verified = verify(services, request.body, header, reply);
    if (verified === undefined) return reply;

    try {
      const event = parseEnvelope(verified);
      if (event.livemode && isTestKey(services.config.stripe.secretKey)) {
        return badRequest(reply, 'livemode', 'live-mode event refused: this service runs with a test key');
      }
      if (services.config.fault === 'webhook') {
        return { received: true, eventId: event.id, status: 'ignored', counted: false };
      }
      const outcome = services.ledger.record(event.id, event.type, revenueChange(event));
      if (outcome.status === 'counted') services.metrics.observeRevenue(event.type, outcome.deltaCents);
      request.log.info({ eventId: event.id, type: event.type, outcome: outcome.status }, 'stripe event');
      return { received: true, eventId: event.id, status: outcome.status, counted: outcome.status === 'counted' };
    } catch (error) {
      if (error instanceof EventShapeError) return badRequest(reply, error.field, error.message);
      throw error;
    }
  });
}
