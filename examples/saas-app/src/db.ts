import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** The open SQLite handle used by the service. */
export type Db = Database.Database;

/** Schema changes in order; the database's user_version counts how many have been applied. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE ledger_entries (
     event_id     TEXT PRIMARY KEY,
     event_type   TEXT NOT NULL,
     kind         TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
     object_id    TEXT NOT NULL,
     amount_cents INTEGER NOT NULL,
     currency     TEXT NOT NULL,
     day          TEXT NOT NULL,
     recorded_at  TEXT NOT NULL
   );
   CREATE INDEX ledger_entries_day ON ledger_entries (day, currency);
   CREATE INDEX ledger_entries_object ON ledger_entries (kind, object_id);`,
];

/** Applies the migrations that this database has not seen yet, each in its own transaction. */
export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < MIGRATIONS.length; version += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return MIGRATIONS.length - current;
}

/** Opens (creating if needed) the database file and brings its schema up to date. */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 2000');
  migrate(db);
  return db;
}
