import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventShapeError, parseEnvelope, revenueChange } from '../src/revenue/events.js';

const envelope = (type: string, object: Record<string, unknown>) => ({ id: 'evt_1', type, livemode: false, data: { object } });

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EventShapeError);
    return error.field;
  }
  assert.fail('expected an EventShapeError');
}

describe('parseEnvelope', () => {
  it('accepts a well-formed event', () => {
    assert.equal(parseEnvelope(envelope('x', {})).id, 'evt_1');
  });

  it('names the missing or malformed field', () => {
    assert.equal(fieldOf(() => parseEnvelope(null)), 'event');
    assert.equal(fieldOf(() => parseEnvelope([])), 'event');
    assert.equal(fieldOf(() => parseEnvelope({ type: 'x' })), 'id');
    assert.equal(fieldOf(() => parseEnvelope({ id: 'e', type: '' })), 'type');
    assert.equal(fieldOf(() => parseEnvelope({ id: 'e', type: 't' })), 'livemode');
    assert.equal(fieldOf(() => parseEnvelope({ id: 'e', type: 't', livemode: false })), 'data');
    assert.equal(fieldOf(() => parseEnvelope({ id: 'e', type: 't', livemode: false, data: {} })), 'data.object');
  });
});

describe('revenueChange', () => {
  it('reads amount_received from a succeeded PaymentIntent', () => {
    const change = revenueChange(
      parseEnvelope(envelope('payment_intent.succeeded', { id: 'pi_1', amount_received: 1200, currency: 'USD' })),
    );
    assert.deepEqual(change, { kind: 'payment', objectId: 'pi_1', amountCents: 1200, currency: 'usd' });
  });

  it('keys a completed session on its PaymentIntent when it has one', () => {
    const withIntent = revenueChange(
      parseEnvelope(envelope('checkout.session.completed', { id: 'cs_1', payment_intent: 'pi_7', amount_total: 900, currency: 'usd' })),
    );
    assert.deepEqual(withIntent, { kind: 'payment', objectId: 'pi_7', amountCents: 900, currency: 'usd' });
    const withoutIntent = revenueChange(
      parseEnvelope(envelope('checkout.session.completed', { id: 'cs_2', payment_intent: null, amount_total: 900, currency: 'usd' })),
    );
    assert.equal(withoutIntent.kind === 'payment' && withoutIntent.objectId, 'cs_2');
  });

  it('ignores sessions that are not paid yet', () => {
    for (const payment_status of ['unpaid', 'no_payment_required']) {
      const change = revenueChange(
        parseEnvelope(envelope('checkout.session.completed', { id: 'cs_3', payment_status, amount_total: null, currency: 'usd' })),
      );
      assert.deepEqual(change, { kind: 'ignored' });
    }
    const paid = revenueChange(
      parseEnvelope(envelope('checkout.session.completed', { id: 'cs_4', payment_status: 'paid', amount_total: 100, currency: 'usd' })),
    );
    assert.equal(paid.kind, 'payment');
  });

  it('reads amount_refunded from a refunded charge', () => {
    const change = revenueChange(parseEnvelope(envelope('charge.refunded', { id: 'ch_1', amount_refunded: 300, currency: 'usd' })));
    assert.deepEqual(change, { kind: 'refund', objectId: 'ch_1', refundedTotalCents: 300, currency: 'usd' });
  });

  it('ignores other event types', () => {
    assert.deepEqual(revenueChange(parseEnvelope(envelope('invoice.created', {}))), { kind: 'ignored' });
  });

  it('rejects negative, fractional or missing amounts and missing currency', () => {
    const pi = (object: Record<string, unknown>) => () => revenueChange(parseEnvelope(envelope('payment_intent.succeeded', object)));
    assert.equal(fieldOf(pi({ id: 'pi', amount_received: -1, currency: 'usd' })), 'data.object.amount_received');
    assert.equal(fieldOf(pi({ id: 'pi', amount_received: 1.5, currency: 'usd' })), 'data.object.amount_received');
    assert.equal(fieldOf(pi({ id: 'pi', amount_received: '100', currency: 'usd' })), 'data.object.amount_received');
    assert.equal(fieldOf(pi({ id: 'pi', amount_received: 100 })), 'data.object.currency');
    assert.equal(fieldOf(pi({ amount_received: 100, currency: 'usd' })), 'data.object.id');
  });
});
