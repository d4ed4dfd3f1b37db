/** `tollgate history`: recent releases with outcome, who promoted them and how long they took. */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { connectClient } from '../cli/connect.js';
import { ExitCode } from '../cli/exit.js';
import { loadSettings } from '../settings.js';
import { printJson } from '../cli/json.js';
import { readEnvironmentRollback, ROLLBACK_WORKFLOW_QUERY } from '../cli/rollbacks.js';
import { releaseStatus } from '../cli/runs.js';

/** Options of `tollgate history`. */
export interface HistoryOptions {
  limit: number;
  app?: string;
  json?: boolean;
}

/** One run in the history: a release, a partial run (`--until`), or an environment rollback. */
export interface HistoryRow {
  /** `partial`: a run that stopped before its chain's end on purpose (`--until build` on a pull request). */
  kind: 'release' | 'partial' | 'rollback';
  workflowId: string;
  runId: string;
  startedAt: string;
  durationS: number | null;
  app: string;
  /** The full commit SHA and its tree hash (the tree is unknown for runs of Tollgate 0.1); null for rollbacks. */
  commit: string | null;
  tree: string | null;
  /** A snapshot of a dirty working tree (`--allow-dirty`). */
  dirty: boolean;
  /** Set for partial runs (`--until`): the stage or environment they stopped after. */
  until: string | null;
  /** For a rollback: the environment rolled back. */
  environment: string | null;
  outcome: string;
  promotedBy: string | null;
  /** For a rollback: who asked for it. */
  requestedBy: string | null;
  /** The release built (for a rollback: the one it reverted). */
  releaseId: string | null;
  /** For a rollback: the release it restored. */
  restored: string | null;
  reason: string | null;
  /** Command stages served from the stage result cache, each with the run that produced the result. */
  cached: { stage: string; workflowId: string; runId: string }[];
}

/** Lists recent releases from the server's visibility records, newest first. */
export async function history(options: HistoryOptions): Promise<number> {
  const { client, connection } = await connectClient(loadSettings());
  try {
    const rows: HistoryRow[] = [];
    const query = `WorkflowType = 'releasePipeline' OR ${ROLLBACK_WORKFLOW_QUERY}`;
    for await (const info of client.workflow.list({ query })) {
      const row =
        info.type === 'rollbackEnvironment' ? await rollbackRow(client, info) : await toRow(client, info);
      if (row && (!options.app || row.app === options.app)) rows.push(row);
      if (rows.length >= options.limit) break;
    }
    if (options.json) printJson('history', { runs: rows });
    else printTable(rows);
    return ExitCode.Ok;
  } finally {
    await connection.close();
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
    kind: status.until ? 'partial' : 'release',
    workflowId: info.workflowId,
    runId: info.runId,
    startedAt: info.startTime.toISOString(),
    durationS: durationOf(info),
    app: status.app,
    commit: status.source.commit,
    tree: status.source.tree,
    dirty: status.source.dirty !== undefined,
    until: status.until ?? null,
    environment: null,
    outcome: info.status.name === 'RUNNING' ? `running (${status.phase})` : status.phase,
    promotedBy: promotion?.by ?? null,
    requestedBy: null,
    releaseId: status.releaseId ?? null,
    restored: null,
    reason: status.failure ?? null,
    cached: Object.entries(status.stages).flatMap(([stage, s]) =>
      s.cached ? [{ stage, workflowId: s.cached.workflowId, runId: s.cached.runId }] : [],
    ),
  };
}

async function rollbackRow(client: Client, info: WorkflowExecutionInfo): Promise<HistoryRow | undefined> {
  const rollback = await readEnvironmentRollback(client, info);
  if (!rollback) return undefined;
  return {
    kind: 'rollback',
    workflowId: info.workflowId,
    runId: info.runId,
    startedAt: rollback.requestedAt,
    durationS: durationOf(info),
    app: rollback.app,
    commit: null,
    tree: null,
    dirty: false,
    until: null,
    environment: rollback.environment,
    outcome: rollback.outcome,
    promotedBy: null,
    requestedBy: rollback.by,
    releaseId: rollback.from,
    restored: rollback.to,
    reason: rollback.message ?? rollback.reason,
    cached: [],
  };
}

/** Seconds from start to close, to a tenth; null while running. */
function durationOf(info: WorkflowExecutionInfo): number | null {
  return info.closeTime ? Math.round((info.closeTime.getTime() - info.startTime.getTime()) / 100) / 10 : null;
}

function printTable(rows: HistoryRow[]): void {
  if (rows.length === 0) {
    console.log('No releases yet: start one with `tollgate run`.');
    return;
  }
  console.log(
    `${'started (UTC)'.padEnd(20)} ${'kind'.padEnd(9)} ${'app'.padEnd(12)} ${'commit'.padEnd(14)} ${'outcome'.padEnd(28)} ${'by'.padEnd(12)} duration`,
  );
  for (const r of rows) {
    const what =
      r.kind === 'rollback'
        ? (r.environment ?? '')
        : `${r.commit?.slice(0, 7) ?? ''}${r.dirty ? '+dirty' : ''}`;
    const outcome = r.until ? `${r.outcome} (until ${r.until})` : r.outcome;
    console.log(
      `${r.startedAt.slice(0, 19).replace('T', ' ').padEnd(20)} ${r.kind.padEnd(9)} ${r.app.padEnd(12)} ${what.padEnd(14)} ${outcome.padEnd(28)} ${(r.promotedBy ?? r.requestedBy ?? '-').padEnd(12)} ${r.durationS === null ? '-' : `${r.durationS}s`}`,
    );
    if (r.kind === 'rollback' && r.outcome === 'rolled-back')
      console.log(`  ↳ ${r.releaseId ?? 'none'} → ${r.restored ?? 'none'}: ${r.reason ?? ''}`);
    else if (r.reason) console.log(`  ↳ ${r.reason.split('\n')[0]}`);
    if (r.cached.length > 0) {
      const from = [...new Set(r.cached.map((c) => c.workflowId))].join(', ');
      console.log(
        `  ↳ from the stage result cache: ${r.cached.map((c) => c.stage).join(', ')} (passed in ${from})`,
      );
    }
  }
}
