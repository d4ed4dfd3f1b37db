/** `tollgate history`: recent releases with outcome, who promoted them and how long they took. */
import { WorkflowFailedError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { connectClient } from '../cli/connect.js';
import { ExitCode } from '../cli/exit.js';
import { loadSettings } from '../settings.js';
import { queryStatus, statusFrom } from '../cli/runs.js';
import type { ReleaseStatus } from '../types.js';

/** Options of `tollgate history`. */
export interface HistoryOptions {
  limit: number;
  app?: string;
  json?: boolean;
}

/** One release in the history. */
export interface HistoryRow {
  workflowId: string;
  runId: string;
  startedAt: string;
  durationS: number | null;
  app: string;
  /** The full commit SHA and its tree hash (the tree is unknown for runs of Tollgate 0.1). */
  commit: string;
  tree: string | null;
  /** A snapshot of a dirty working tree (`--allow-dirty`). */
  dirty: boolean;
  /** Set for partial runs (`--until`): the stage or environment they stopped after. */
  until: string | null;
  outcome: string;
  promotedBy: string | null;
  releaseId: string | null;
  reason: string | null;
}

/** Lists recent releases from the server's visibility records, newest first. */
export async function history(options: HistoryOptions): Promise<number> {
  const { client, connection } = await connectClient(loadSettings());
  try {
    const rows: HistoryRow[] = [];
    for await (const info of client.workflow.list({ query: "WorkflowType = 'releasePipeline'" })) {
      const row = await toRow(client, info);
      if (row && (!options.app || row.app === options.app)) rows.push(row);
      if (rows.length >= options.limit) break;
    }
    if (options.json) console.log(JSON.stringify(rows, null, 2));
    else printTable(rows);
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}

/** The run's final status (from its result or failure) or, while running, its live status. */
export async function releaseStatus(
  client: Client,
  info: WorkflowExecutionInfo,
): Promise<ReleaseStatus | undefined> {
  const handle = client.workflow.getHandle(info.workflowId, info.runId);
  if (info.status.name === 'RUNNING') return queryStatus(handle).catch(() => undefined);
  try {
    return statusFrom(((await handle.result()) as { status?: unknown }).status);
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    return cause && 'details' in cause && Array.isArray(cause.details)
      ? statusFrom(cause.details[0])
      : undefined;
  }
}

async function toRow(client: Client, info: WorkflowExecutionInfo): Promise<HistoryRow | undefined> {
  const status = await releaseStatus(client, info);
  if (!status) return undefined;
  // Who let it into its last environment: the last accepted decision at a gate.
  const promotion = [...(status.audit ?? [])]
    .reverse()
    .find((e) => ['promote', 'auto-promote', 'gate-timeout'].includes(e.action) && e.outcome === 'accepted');
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    startedAt: info.startTime.toISOString(),
    durationS: info.closeTime
      ? Math.round((info.closeTime.getTime() - info.startTime.getTime()) / 100) / 10
      : null,
    app: status.app,
    commit: status.source.commit,
    tree: status.source.tree,
    dirty: status.source.dirty !== undefined,
    until: status.until ?? null,
    outcome: info.status.name === 'RUNNING' ? `running (${status.phase})` : status.phase,
    promotedBy: promotion?.by ?? null,
    releaseId: status.releaseId ?? null,
    reason: status.failure ?? null,
  };
}

function printTable(rows: HistoryRow[]): void {
  if (rows.length === 0) {
    console.log('No releases yet: start one with `tollgate run`.');
    return;
  }
  console.log(
    `${'started (UTC)'.padEnd(20)} ${'app'.padEnd(12)} ${'commit'.padEnd(14)} ${'outcome'.padEnd(28)} ${'promoted by'.padEnd(12)} duration`,
  );
  for (const r of rows) {
    const commit = `${r.commit.slice(0, 7)}${r.dirty ? '+dirty' : ''}`;
    const outcome = r.until ? `${r.outcome} (until ${r.until})` : r.outcome;
    console.log(
      `${r.startedAt.slice(0, 19).replace('T', ' ').padEnd(20)} ${r.app.padEnd(12)} ${commit.padEnd(14)} ${outcome.padEnd(28)} ${(r.promotedBy ?? '-').padEnd(12)} ${r.durationS === null ? '-' : `${r.durationS}s`}`,
    );
    if (r.reason) console.log(`  ↳ ${r.reason.split('\n')[0]}`);
  }
}
