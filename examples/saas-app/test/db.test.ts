import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MIGRATIONS, migrate, openDatabase } from '../src/db.js';

const scratch = mkdtempSync(join(tmpdir(), 'saas-db-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('openDatabase', () => {
  it('creates missing directories and migrates', () => {
    const path = join(scratch, 'nested', 'dir', 'saas.db');
    const db = openDatabase(path);
    assert.ok(existsSync(path));
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    db.close();
    assert.deepEqual(readdirSync(join(scratch, 'nested', 'dir')), ['saas.db']);
  });

  it('keeps data across reopen and does not re-run migrations', () => {
    const path = join(scratch, 'reopen.db');
    const first = openDatabase(path);
    first
      .prepare(
        `INSERT INTO ledger_entries (event_id, event_type, kind, object_id, amount_cents, currency, day, recorded_at)
         VALUES ('evt_1', 'payment_intent.succeeded', 'payment', 'pi_1', 100, 'usd', '2024-01-01', '2024-01-01T00:00:00Z')`,
      )
      .run();
    first.close();
    const second = openDatabase(path);
    assert.equal(migrate(second), 0);
    assert.equal((second.prepare('SELECT COUNT(*) AS n FROM ledger_entries').get() as { n: number }).n, 1);
    second.close();
  });

  it('rejects rows that break the schema', () => {
    const db = openDatabase(':memory:');
    assert.throws(() =>
      db
        .prepare(
          `INSERT INTO ledger_entries (event_id, event_type, kind, object_id, amount_cents, currency, day, recorded_at)
           VALUES ('e', 't', 'gift', 'o', 1, 'usd', 'd', 'r')`,
        )
        .run(),
    );
    db.close();
  });
});
