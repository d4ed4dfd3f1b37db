import type { StripeSettings } from './config.js';
import type { Db } from './db.js';
import type { InsightEngine } from './rag/engine.js';
import type { RevenueLedger } from './revenue/ledger.js';
import { checkStripeSettings } from './stripe/client.js';

/** The outcome of one named readiness check. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the readiness checks look at. */
export interface ReadinessTargets {
  db: Db;
  ledger: RevenueLedger;
  engine: InsightEngine;
  stripe: StripeSettings;
  nodeEnv: string;
}

function run(name: string, check: () => string): CheckResult {
  try {
    return { name, ok: true, detail: check() };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** Runs every readiness check: database, stripe, rag, revenue. */
export function readinessChecks(targets: ReadinessTargets): CheckResult[] {
  return [
    run('database', () => {
      if (!targets.db.open) throw new Error('database is closed');
      targets.db.prepare('SELECT 1').get();
      return `open: ${targets.db.name}`;
    }),
    run('stripe', () => {
      const result = checkStripeSettings(targets.stripe, targets.nodeEnv);
      if (!result.ok) throw new Error(result.detail);
      return result.detail;
    }),
    run('rag', () => {
      const count = targets.engine.documentCount;
      if (count === 0) throw new Error('index is empty');
      return `${count} documents indexed`;
    }),
    run('revenue', () => {
      targets.ledger.checkWritable();
      return 'ledger writable';
    }),
  ];
}
