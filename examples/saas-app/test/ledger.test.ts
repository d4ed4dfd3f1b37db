import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../src/db.js';
import { DAILY_TARGET_CENTS, RevenueLedger, utcDay } from '../src/revenue/ledger.js';

function ledgerAt(iso: string) {
  let now = new Date(iso);
  const db = openDatabase(':memory:');
  return { db, ledger: new RevenueLedger(db, () => now), setNow: (next: string) => (now = new Date(next)) };
}

const pay = (objectId: string, amountCents: number, currency = 'usd') =>
  ({ kind: 'payment', objectId, amountCents, currency }) as const;
const refund = (objectId: string, refundedTotalCents: number) =>
  ({ kind: 'refund', objectId, refundedTotalCents, currency: 'usd' }) as const;

describe('RevenueLedger', () => {
  it('counts a payment once per event id', () => {
    const { ledger } = ledgerAt('2024-05-01T10:00:00Z');
    assert.deepEqual(ledger.record('evt_1', 'payment_intent.succeeded', pay('pi_1', 2500)), { status: 'counted', deltaCents: 2500 });
    assert.deepEqual(ledger.record('evt_1', 'payment_intent.succeeded', pay('pi_1', 2500)), { status: 'duplicate-event' });
    assert.equal(ledger.summary().revenueCents, 2500);
    assert.equal(ledger.summary().eventCount, 1);
  });

  it('counts a payment once even when both the session and the intent report it', () => {
    const { ledger } = ledgerAt('2024-05-01T10:00:00Z');
    ledger.record('evt_session', 'checkout.session.completed', pay('pi_9', 4000));
    assert.deepEqual(ledger.record('evt_intent', 'payment_intent.succeeded', pay('pi_9', 4000)), {
      status: 'payment-already-counted',
    });
    assert.equal(ledger.summary().revenueCents, 4000);
  });

  it('subtracts only the newly refunded part of a cumulative amount_refunded', () => {
    const { ledger } = ledgerAt('2024-05-01T10:00:00Z');
    ledger.record('evt_p', 'payment_intent.succeeded', pay('pi_1', 10_000));
    assert.deepEqual(ledger.record('evt_r1', 'charge.refunded', refund('ch_1', 3000)), { status: 'counted', deltaCents: -3000 });
    assert.deepEqual(ledger.record('evt_r2', 'charge.refunded', refund('ch_1', 5000)), { status: 'counted', deltaCents: -2000 });
    assert.deepEqual(ledger.record('evt_r0', 'charge.refunded', refund('ch_1', 4000)), { status: 'no-new-refund' });
    assert.equal(ledger.summary().revenueCents, 5000);
    assert.equal(ledger.summary().eventCount, 3);
  });

  it('ignores events that carry no revenue', () => {
    const { ledger } = ledgerAt('2024-05-01T10:00:00Z');
    assert.deepEqual(ledger.record('evt_x', 'customer.created', { kind: 'ignored' }), { status: 'ignored' });
    assert.equal(ledger.summary().eventCount, 0);
  });

  it('books by UTC day and reports progress toward the target', () => {
    const { ledger, setNow } = ledgerAt('2024-05-01T23:59:59Z');
    ledger.record('evt_a', 'payment_intent.succeeded', pay('pi_a', 1000));
    setNow('2024-05-02T00:00:01Z');
    ledger.record('evt_b', 'payment_intent.succeeded', pay('pi_b', 15_000));
    ledger.record('evt_c', 'payment_intent.succeeded', pay('pi_c', 700, 'eur'));
    const today = ledger.summary();
    assert.equal(today.day, '2024-05-02');
    assert.equal(today.revenueCents, 15_000);
    assert.equal(today.targetCents, DAILY_TARGET_CENTS);
    assert.equal(today.progress, 0.5);
    assert.equal(today.eventCount, 2);
    assert.deepEqual(today.byCurrency, { eur: 700, usd: 15_000 });
    assert.equal(today.lastEventAt, '2024-05-02T00:00:01.000Z');
    assert.equal(ledger.summary('2024-05-01').revenueCents, 1000);
    assert.equal(ledger.summary('2024-04-30').lastEventAt, null);
  });

  it('is writable while open and says so when closed', () => {
    const { db, ledger } = ledgerAt('2024-05-01T10:00:00Z');
    ledger.checkWritable();
    db.close();
    assert.throws(() => ledger.checkWritable());
  });

  it('formats UTC days', () => {
    assert.equal(utcDay(new Date('2024-12-31T23:00:00-05:00')), '2025-01-01');
  });
});
