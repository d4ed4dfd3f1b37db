import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, startupRefusal } from './config.js';
import type { CheckResult } from './readiness.js';

async function timed(name: string, check: () => Promise<string>): Promise<CheckResult> {
  try {
    return { name, ok: true, detail: await check() };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The quick health check behind `npm run health`: modules load, a database opens in a temp
 * file, Stripe is configured, the RAG index loads, the revenue ledger takes a write.
 * SAAS_FAULT is ignored on purpose: a faulty release must pass this and fail once deployed.
 */
export async function runHealthChecks(env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'saas-health-'));
  try {
    const modules = await timed('modules', async () => {
      await Promise.all([import('./app.js'), import('better-sqlite3'), import('stripe'), import('minisearch')]);
      return 'app, better-sqlite3, stripe, minisearch loaded';
    });
    results.push(modules);
    if (!modules.ok) return results;

    const { openDatabase } = await import('./db.js');
    const { checkStripeSettings } = await import('./stripe/client.js');
    const { InsightEngine } = await import('./rag/engine.js');
    const { RevenueLedger } = await import('./revenue/ledger.js');

    const { SAAS_FAULT: _ignored, ...cleanEnv } = env;
    const config = loadConfig(cleanEnv);
    const dbPath = join(scratch, 'health.db');
    const db = openDatabase(dbPath);
    try {
      results.push(await timed('database', async () => {
        db.prepare('SELECT 1').get();
        return `opened and migrated ${dbPath}`;
      }));
      results.push(await timed('stripe', async () => {
        const refusal = startupRefusal(config);
        if (refusal !== undefined) throw new Error(refusal);
        const check = checkStripeSettings(config.stripe, config.nodeEnv);
        if (!check.ok) throw new Error(check.detail);
        return check.detail;
      }));
      results.push(await timed('rag', async () => {
        const engine = new InsightEngine();
        const hits = engine.search('net revenue retention');
        if (engine.documentCount === 0 || hits.length === 0) throw new Error('RAG index is empty');
        return `${engine.documentCount} documents indexed`;
      }));
      results.push(await timed('revenue', async () => {
        const ledger = new RevenueLedger(db);
        ledger.checkWritable();
        const outcome = ledger.record('evt_health_probe', 'payment_intent.succeeded', {
          kind: 'payment',
          objectId: 'pi_health_probe',
          amountCents: 1,
          currency: 'usd',
        });
        if (outcome.status !== 'counted' || ledger.summary().revenueCents !== 1) {
          throw new Error('revenue ledger did not count a probe event');
        }
        return 'ledger writable, probe event counted';
      }));
    } finally {
      db.close();
    }
    return results;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
