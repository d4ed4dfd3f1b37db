import type { Db } from '../db.js';
import type { RevenueChange } from './events.js';

/** Daily revenue target: $300 in cents. */
export const DAILY_TARGET_CENTS = 30_000;
/** The currency that the target and the headline revenue figure are in. */
export const REPORTING_CURRENCY = 'usd';

/** What happened to one delivered event. */
export type RecordOutcome =
  | { status: 'counted'; deltaCents: number }
  | { status: 'duplicate-event' }
  | { status: 'payment-already-counted' }
  | { status: 'no-new-refund' }
  | { status: 'ignored' };

/** Today's revenue as /metrics/revenue reports it. */
export interface RevenueSummary {
  day: string;
  currency: string;
  revenueCents: number;
  targetCents: number;
  progress: number;
  eventCount: number;
  lastEventAt: string | null;
  byCurrency: Record<string, number>;
}

/** UTC calendar day (YYYY-MM-DD) of an instant. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The revenue ledger: one row per counted Stripe event, booked on the UTC day it arrived. */
export class RevenueLedger {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Books an event's change exactly once; repeats and non-changes write nothing. */
  record(eventId: string, eventType: string, change: RevenueChange): RecordOutcome {
    if (change.kind === 'ignored') return { status: 'ignored' };
    return this.db.transaction((): RecordOutcome => {
      if (this.hasEvent(eventId)) return { status: 'duplicate-event' };
      let delta: number;
      if (change.kind === 'payment') {
        if (this.sumFor('payment', change.objectId) !== null) {
          return { status: 'payment-already-counted' };
        }
        delta = change.amountCents;
      } else {
        const alreadyRefunded = -(this.sumFor('refund', change.objectId) ?? 0);
        delta = -(change.refundedTotalCents - alreadyRefunded);
        if (delta >= 0) return { status: 'no-new-refund' };
      }
      const at = this.now();
      this.db
        .prepare(
          `INSERT INTO ledger_entries
             (event_id, event_type, kind, object_id, amount_cents, currency, day, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(eventId, eventType, change.kind, change.objectId, delta, change.currency, utcDay(at), at.toISOString());
      return { status: 'counted', deltaCents: delta };
    }).immediate();
  }

  /** Revenue booked on the given UTC day (today by default). */
  summary(day: string = utcDay(this.now())): RevenueSummary {
    const rows = this.db
      .prepare(
        `SELECT currency, SUM(amount_cents) AS total, COUNT(*) AS n, MAX(recorded_at) AS last
           FROM ledger_entries WHERE day = ? GROUP BY currency ORDER BY currency`,
      )
      .all(day) as { currency: string; total: number; n: number; last: string }[];
    const byCurrency: Record<string, number> = {};
    let eventCount = 0;
    let lastEventAt: string | null = null;
    for (const row of rows) {
      byCurrency[row.currency] = row.total;
      eventCount += row.n;
      if (lastEventAt === null || row.last > lastEventAt) lastEventAt = row.last;
    }
    const revenueCents = byCurrency[REPORTING_CURRENCY] ?? 0;
    return {
      day,
      currency: REPORTING_CURRENCY,
      revenueCents,
      targetCents: DAILY_TARGET_CENTS,
      progress: Math.round((revenueCents / DAILY_TARGET_CENTS) * 10_000) / 10_000,
      eventCount,
      lastEventAt,
      byCurrency,
    };
  }

  /** Proves the ledger can take writes by taking and releasing the write lock. */
  checkWritable(): void {
    if (this.db.readonly) throw new Error('database is open read-only');
    this.db.exec('BEGIN IMMEDIATE');
    this.db.exec('ROLLBACK');
  }

  private hasEvent(eventId: string): boolean {
    return this.db.prepare('SELECT 1 FROM ledger_entries WHERE event_id = ?').get(eventId) !== undefined;
  }

  private sumFor(kind: 'payment' | 'refund', objectId: string): number | null {
    const row = this.db
      .prepare('SELECT SUM(amount_cents) AS total FROM ledger_entries WHERE kind = ? AND object_id = ?')
      .get(kind, objectId) as { total: number | null };
    return row.total;
  }
}
