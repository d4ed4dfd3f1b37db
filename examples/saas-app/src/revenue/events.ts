/** A Stripe event reduced to the fields the ledger needs. */
export type RevenueChange =
  | { kind: 'payment'; objectId: string; amountCents: number; currency: string }
  | { kind: 'refund'; objectId: string; refundedTotalCents: number; currency: string }
  | { kind: 'ignored' };

/** The minimal shape every verified Stripe event has. */
export interface StripeEventLike {
  id: string;
  type: string;
  livemode: boolean;
  data: { object: Record<string, unknown> };
}

/** Thrown when a signed event lacks a field that its type requires; names the field. */
export class EventShapeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventShapeError';
  }
}

/** Event types that move revenue; everything else is acknowledged and ignored. */
export const REVENUE_EVENT_TYPES = [
  'payment_intent.succeeded',
  'checkout.session.completed',
  'charge.refunded',
] as const;

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventShapeError(field, `${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

function text(obj: Record<string, unknown>, key: string, field: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value === '') {
    throw new EventShapeError(field, `${field} must be a non-empty string`);
  }
  return value;
}

function cents(obj: Record<string, unknown>, key: string, field: string): number {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new EventShapeError(field, `${field} must be a non-negative integer amount in cents`);
  }
  return value;
}

function currency(obj: Record<string, unknown>, field: string): string {
  return text(obj, 'currency', field).toLowerCase();
}

/** Checks the envelope of a verified event and returns it typed. */
export function parseEnvelope(body: unknown): StripeEventLike {
  const event = record(body, 'event');
  const id = text(event, 'id', 'id');
  const type = text(event, 'type', 'type');
  if (typeof event.livemode !== 'boolean') {
    throw new EventShapeError('livemode', 'livemode must be a boolean');
  }
  const data = record(event.data, 'data');
  const object = record(data.object, 'data.object');
  return { id, type, livemode: event.livemode, data: { object } };
}

/** Maps a verified event to the revenue change it represents. */
export function revenueChange(event: StripeEventLike): RevenueChange {
  const obj = event.data.object;
  switch (event.type) {
    case 'payment_intent.succeeded':
      return {
        kind: 'payment',
        objectId: text(obj, 'id', 'data.object.id'),
        amountCents: cents(obj, 'amount_received', 'data.object.amount_received'),
        currency: currency(obj, 'data.object.currency'),
      };
    case 'checkout.session.completed': {
      // Unpaid (delayed payment methods) and free sessions carry no revenue yet.
      if (obj.payment_status !== undefined && obj.payment_status !== 'paid') return { kind: 'ignored' };
      // A paid session also produces payment_intent.succeeded; keying both on the
      // PaymentIntent id lets the ledger count the payment once.
      const paymentIntent = obj.payment_intent;
      return {
        kind: 'payment',
        objectId:
          typeof paymentIntent === 'string' && paymentIntent !== ''
            ? paymentIntent
            : text(obj, 'id', 'data.object.id'),
        amountCents: cents(obj, 'amount_total', 'data.object.amount_total'),
        currency: currency(obj, 'data.object.currency'),
      };
    }
    case 'charge.refunded':
      return {
        kind: 'refund',
        objectId: text(obj, 'id', 'data.object.id'),
        refundedTotalCents: cents(obj, 'amount_refunded', 'data.object.amount_refunded'),
        currency: currency(obj, 'data.object.currency'),
      };
    default:
      return { kind: 'ignored' };
  }
}
