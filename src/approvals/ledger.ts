/**
 * The worker's record of signed one-off requests already used (`rollback --env`), so a signature
 * copied out of a run's history cannot start a second rollback while it is still fresh.
 *
 * One file per request under TOLLGATE_HOME/approvals/<app>/used, written whole to a temporary name and then
 * hard-linked into place (link(2) fails if the name exists): of two runs that present the same
 * request, on one worker or on several sharing TOLLGATE_HOME, exactly one wins, and nobody ever
 * reads a half-written record.
 * The winner's run id is in the file, so the same run asking again (a retried local activity, a
 * replayed workflow task) is still let through.
 */
import { createHash, randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPROVAL_WINDOW_MS } from './protocol.js';

/** A record outlives any signature it could match: `at` may be a window ahead, then valid a window on. */
export const LEDGER_RETENTION_MS = 2 * APPROVAL_WINDOW_MS + 60_000;

/** What one claim is about. */
export interface RequestClaim {
  workflowId: string;
  requestId: string;
  /** The run presenting the request. */
  runId: string;
}

/** Whether the request is this run's to use. */
export type ClaimResult = { ok: true } | { ok: false; usedBy: string; usedAt: string };

interface LedgerRecord {
  workflowId: string;
  requestId: string;
  runId: string;
  at: string;
}

/** Where a worker keeps its ledger: per app (requests of 0.1 clients, which name no app, in the shared one). */
export function ledgerDir(home: string, app?: string): string {
  return app ? join(home, 'approvals', app, 'used') : join(home, 'approvals', 'used');
}

/** Claims `claim.requestId` for `claim.runId`, first forgetting records past LEDGER_RETENTION_MS. */
export function claimRequest(dir: string, claim: RequestClaim, now: number): ClaimResult {
  mkdirSync(dir, { recursive: true });
  prune(dir, now);
  const file = join(dir, `${digest(claim.workflowId, claim.requestId)}.json`);
  const record: LedgerRecord = { ...claim, at: new Date(now).toISOString() };
  const draft = join(dir, `.${randomUUID()}.tmp`);
  writeFileSync(draft, `${JSON.stringify(record)}\n`);
  try {
    linkSync(draft, file);
    return { ok: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  const held = read(file);
  if (!held) throw new Error(`the approvals ledger record ${file} is unreadable: remove it and retry`);
  return held.runId === claim.runId ? { ok: true } : { ok: false, usedBy: held.runId, usedAt: held.at };
}

function digest(workflowId: string, requestId: string): string {
  return createHash('sha256').update(`${workflowId}\0${requestId}`).digest('hex').slice(0, 40);
}

function read(file: string): LedgerRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LedgerRecord;
  } catch {
    return undefined;
  }
}

/** Forgets records older than the retention; a record another worker removed first is simply gone. */
function prune(dir: string, now: number): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const at = Date.parse(read(join(dir, name))?.at ?? '');
    if (now - at > LEDGER_RETENTION_MS) rmSync(join(dir, name), { force: true });
  }
}
