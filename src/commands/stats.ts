/** `tollgate stats`: deployment frequency, lead time, change failure rate, time to restore, stage timings. */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import ms from 'ms';
import { connectClient } from '../cli/connect.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { loadSettings } from '../settings.js';
import { formatDuration, formatPerDay, formatRate } from '../stats/format.js';
import { renderHtml } from '../stats/html.js';
import {
  computeMetrics,
  isProductionDeployment,
  type PipelineMetrics,
  type RunRecord,
  type StatsWindow,
} from '../stats/metrics.js';
import { mirrorPath } from '../source/mirror.js';
import { isRepositoryUrl } from '../source/git.js';
import type { ReleaseInput, ReleaseStatus } from '../types.js';
import type { ReleaseInput as ReleaseInputV1 } from '../workflows/legacy/types.js';
import { printJson } from '../cli/json.js';
import {
  readEnvironmentRollback,
  ROLLBACK_WORKFLOW_QUERY,
  type EnvironmentRollback,
} from '../cli/rollbacks.js';
import { releaseStatus, startInput } from '../cli/runs.js';

/** Options of `tollgate stats`. */
export interface StatsOptions {
  /** How far back from now (or from --to): `7d`, `24h`, `2w`. Default 7d. */
  since?: string;
  from?: string;
  to?: string;
  app?: string;
  json?: boolean;
  html?: string;
}

const DAY_MS = 86_400_000;
/** Longest window: the daily timeline has one entry per day. */
const MAX_WINDOW_DAYS = 731;
/** Runs read at once: each costs two small RPCs. */
const CONCURRENCY = 8;

/** Computes the metrics over the releases started in the window and prints, writes or emits them. */
export async function stats(options: StatsOptions): Promise<number> {
  const window = statsWindow(options, new Date());
  const settings = loadSettings();
  const { client, connection } = await connectClient(settings);
  try {
    const { records, notes } = await collectRuns(client, window, options.app, settings.home);
    const rollbacks = await collectRollbacks(client, window, options.app);
    const metrics = computeMetrics(records, window, options.app ?? null, rollbacks);
    metrics.notes.push(...notes);
    if (options.html) writeFileSync(options.html, renderHtml(metrics));
    if (options.json) printJson('stats', metrics);
    else printSummary(metrics);
    // On stderr with --json, so stdout stays one JSON document.
    if (options.html && options.json) console.error(`HTML report written to ${options.html}`);
    else if (options.html) console.log(`HTML report written to ${options.html}`);
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}

/** The window from the options: --from/--to (ISO), else --since back from --to or now. */
export function statsWindow(options: StatsOptions, now: Date): StatsWindow {
  if (options.from !== undefined && options.since !== undefined) {
    throw new ExitError(ExitCode.BadInput, 'use either --since or --from/--to, not both');
  }
  const instant = (flag: string, value: string): number => {
    const t = Date.parse(value);
    if (Number.isNaN(t)) {
      throw new ExitError(
        ExitCode.BadInput,
        `${flag} ${value} is not an ISO date (e.g. 2025-01-31 or 2025-01-31T12:00:00Z)`,
      );
    }
    return t;
  };
  const to = options.to === undefined ? now.getTime() : instant('--to', options.to);
  let from: number;
  if (options.from !== undefined) {
    from = instant('--from', options.from);
  } else {
    const since = options.since ?? '7d';
    const span = ms(since as ms.StringValue) as number | undefined;
    if (typeof span !== 'number' || !Number.isFinite(span) || span <= 0) {
      throw new ExitError(ExitCode.BadInput, `--since ${since} is not a duration (e.g. 7d, 24h, 2w)`);
    }
    from = to - span;
  }
  if (from >= to) throw new ExitError(ExitCode.BadInput, 'the window is empty: --from must be before --to');
  if ((to - from) / DAY_MS > MAX_WINDOW_DAYS) {
    throw new ExitError(ExitCode.BadInput, `the window is longer than ${MAX_WINDOW_DAYS} days`);
  }
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** Reads every release run started in the window (and of the app, when given). */
async function collectRuns(
  client: Client,
  window: StatsWindow,
  app: string | undefined,
  home: string,
): Promise<{ records: RunRecord[]; notes: string[] }> {
  const query = `WorkflowType = 'releasePipeline' AND StartTime >= '${window.from}' AND StartTime < '${window.to}'`;
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query })) infos.push(info);

  const commits = new Map<string, Promise<string | undefined>>();
  const withoutStatus: string[] = [];
  const unreadable: string[] = [];
  const read = async (info: WorkflowExecutionInfo): Promise<RunRecord | undefined> => {
    const input = await startInput<AnyReleaseInput>(client, info);
    if (app && input && input.app !== app) return undefined;
    const running = info.status.name === 'RUNNING';
    let status: ReleaseStatus | undefined;
    if (running) {
      // Not queried: a run in flight only counts as running, and a query would wait for a worker.
      status = emptyStatus(input, 'starting');
    } else {
      status = await releaseStatus(client, info);
      if (!status) {
        status = fallbackStatus(info, input);
        if (!status) {
          unreadable.push(`${info.workflowId} (${info.status.name})`);
          return undefined;
        }
        if (!app || status.app === app) withoutStatus.push(`${info.workflowId} (${info.status.name})`);
      }
    }
    if (app && status.app !== app) return undefined;
    let commitTime: string | undefined;
    const where = input && commitLocation(input, home);
    if (where && !running && isProductionDeployment(status)) {
      const key = `${where.dir}\0${where.commit}`;
      if (!commits.has(key)) commits.set(key, gitCommitTime(where.dir, where.commit));
      commitTime = await commits.get(key);
    }
    return {
      workflowId: info.workflowId,
      startedAt: info.startTime.toISOString(),
      ...(info.closeTime && !running ? { closedAt: info.closeTime.toISOString() } : {}),
      status,
      ...(commitTime ? { commitTime } : {}),
    };
  };

  const records: RunRecord[] = [];
  for (let i = 0; i < infos.length; i += CONCURRENCY) {
    const batch = await Promise.all(infos.slice(i, i + CONCURRENCY).map(read));
    for (const record of batch) if (record) records.push(record);
  }
  const notes: string[] = [];
  if (withoutStatus.length > 0) {
    notes.push(
      `${withoutStatus.length} run(s) left no final status in their result (cancelled, terminated, timed out, or failed before the pipeline began): counted by their execution status, without stage timings: ${withoutStatus.join(', ')}`,
    );
  }
  if (unreadable.length > 0) {
    notes.push(`${unreadable.length} run(s) could not be read and are left out: ${unreadable.join(', ')}`);
  }
  return { records, notes };
}

/** Environment rollbacks from the window's start on (a release in the window may be reverted after it). */
async function collectRollbacks(
  client: Client,
  window: StatsWindow,
  app: string | undefined,
): Promise<EnvironmentRollback[]> {
  const found: EnvironmentRollback[] = [];
  const query = `${ROLLBACK_WORKFLOW_QUERY} AND StartTime >= '${window.from}'`;
  for await (const info of client.workflow.list({ query })) {
    const rollback = await readEnvironmentRollback(client, info);
    if (rollback && (!app || rollback.app === app)) found.push(rollback);
  }
  return found;
}

/** A run's input, of either schema. */
type AnyReleaseInput = ReleaseInput | ReleaseInputV1;

/** Where the commit a run released can be read: its repository on this machine, else this home's mirror of it. */
function commitLocation(input: AnyReleaseInput, home: string): { dir: string; commit: string } | undefined {
  if (!('source' in input)) return { dir: input.sourceDir, commit: input.ref };
  const { repository, commit } = input.source;
  return { dir: isRepositoryUrl(repository) ? mirrorPath(home, repository) : repository, commit };
}

/** A status with no stages, for a run counted by its execution status alone. */
function emptyStatus(input: AnyReleaseInput | undefined, phase: ReleaseStatus['phase']): ReleaseStatus {
  const commit = input ? ('source' in input ? input.source.commit : input.ref) : '?';
  return {
    schemaVersion: 2,
    app: input?.app ?? '?',
    source: { repository: '', commit, tree: null, subdir: '', revision: commit },
    phase,
    stages: {},
    environments: {},
    compensations: [],
    audit: [],
  };
}

/** A final status for a run that left none: terminated and timed-out runs count as cancelled (exit code 4). */
function fallbackStatus(
  info: WorkflowExecutionInfo,
  input: AnyReleaseInput | undefined,
): ReleaseStatus | undefined {
  if (!input) return undefined;
  const phase =
    info.status.name === 'FAILED' ? 'failed' : info.status.name === 'COMPLETED' ? undefined : 'cancelled';
  if (!phase) return undefined;
  return emptyStatus(input, phase);
}

const execFileAsync = promisify(execFile);

/** The committer date of `ref` in `dir` (`git log -1 --format=%cI`), or undefined when it is not a revision there. */
export async function gitCommitTime(dir: string, ref: string): Promise<string | undefined> {
  if (!dir || !ref || ref.startsWith('-') || !existsSync(dir)) return undefined;
  try {
    const { stdout } = await execFileAsync(
      'git',
      ['-C', dir, 'log', '-1', '--format=%cI', '--end-of-options', ref, '--'],
      { timeout: 5000 },
    );
    const time = stdout.trim();
    return Number.isNaN(Date.parse(time)) ? undefined : new Date(time).toISOString();
  } catch {
    return undefined;
  }
}

function printSummary(m: PipelineMetrics): void {
  const when = (iso: string): string => iso.slice(0, 16).replace('T', ' ');
  console.log(
    `Tollgate stats: ${m.app ?? 'all apps'}, ${when(m.window.from)} to ${when(m.window.to)} UTC (${Math.round(m.window.days * 10) / 10} days)`,
  );
  console.log(
    `${m.runs.finished} finished runs: ${m.runs.succeeded} succeeded, ${m.runs.failed} failed, ${m.runs.rolledBack} rolled back, ${m.runs.cancelled} cancelled${m.runs.running ? `; ${m.runs.running} in flight` : ''}`,
  );
  if (m.runs.total === 0) {
    console.log('No releases in this window: widen it with --since 30d, or start one with `tollgate run`.');
    return;
  }
  const line = (name: string, value: string, detail: string): void =>
    console.log(`  ${name.padEnd(24)} ${value.padEnd(14)} ${detail}`);
  console.log('');
  line(
    'deployment frequency',
    formatPerDay(m.deploymentFrequency.perDay),
    `${m.deploymentFrequency.deployments} production deployments`,
  );
  line(
    'lead time for changes',
    formatDuration(m.leadTime.p50Ms),
    m.leadTime.count === 0
      ? 'no production deployments'
      : `median; p95 ${formatDuration(m.leadTime.p95Ms)}, ${m.leadTime.count} deployments${m.leadTime.fromRunStart.length ? ` (${m.leadTime.fromRunStart.length} timed from run start: see notes)` : ''}`,
  );
  line(
    'change failure rate',
    formatRate(m.changeFailureRate.rate),
    m.changeFailureRate.denominator === 0
      ? 'nothing reached production'
      : `${m.changeFailureRate.numerator} of ${m.changeFailureRate.denominator} reached production (breach ${m.changeFailureRate.breach}, operator ${m.changeFailureRate.operator}, reverted ${m.changeFailureRate.reverted}, other ${m.changeFailureRate.other})`,
  );
  line(
    'time to restore',
    formatDuration(m.timeToRestore.p50Ms),
    m.timeToRestore.count === 0
      ? 'no restores'
      : `median; p95 ${formatDuration(m.timeToRestore.p95Ms)}, ${m.timeToRestore.count} restores`,
  );
  line(
    'success rate',
    formatRate(m.successRate.rate),
    `${m.successRate.numerator} of ${m.successRate.denominator} finished runs`,
  );
  line(
    'pipeline time',
    formatDuration(m.pipelineTime.meanMs),
    `mean; median ${formatDuration(m.pipelineTime.p50Ms)}, p95 ${formatDuration(m.pipelineTime.p95Ms)}`,
  );
  if (m.stages.length > 0) {
    console.log('');
    console.log(
      `  ${'stage'.padEnd(26)} ${'ok'.padStart(4)} ${'failed'.padStart(6)} ${'skipped'.padStart(7)} ${'p50'.padStart(9)} ${'p95'.padStart(9)}`,
    );
    for (const s of m.stages) {
      console.log(
        `  ${s.stage.padEnd(26)} ${String(s.succeeded).padStart(4)} ${String(s.failed).padStart(6)} ${String(s.skipped).padStart(7)} ${formatDuration(s.p50Ms).padStart(9)} ${formatDuration(s.p95Ms).padStart(9)}`,
      );
    }
  }
  console.log('');
  console.log(
    `Summary: success rate ${formatRate(m.summary.successRate)}, average pipeline time ${formatDuration(m.summary.averagePipelineTimeMs)}, deployment frequency ${formatPerDay(m.summary.deploymentFrequencyPerDay)}`,
  );
  for (const note of m.notes) console.log(`note: ${note}`);
}
