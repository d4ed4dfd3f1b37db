/**
 * Follows a release until it closes (or, asked to, until it waits at a promotion gate), for
 * `run --wait`, `wait` and `watch`: polls the status query and shows each change; a failed stage
 * comes with its last lines and where its log is, and nothing waits silently for a missing worker.
 */
import type { PayloadCodec } from '@temporalio/common';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { STATUS_LOG_TAIL_LINES } from '../constants.js';
import type { Settings } from '../settings.js';
import type { ReleaseStatus, StageStatus } from '../types.js';
import type { ReleaseWorkflow } from '../workflows/release/index.js';
import { ExitCode } from './exit.js';
import {
  appendJobSummary,
  errorAnnotation,
  GROUP_END,
  groupStart,
  stageAnnotation,
  underGitHubActions,
} from './github.js';
import { jsonDocument, printJson, type RunOutcome } from './json.js';
import { noWorkerMessage, taskQueuePollers } from './pollers.js';
import { decodeSummaries, formatProfile, profileFromHistory, type RunProfile } from './profile.js';
import {
  ChangeTracker,
  describeFailure,
  formatChange,
  outcomeWords,
  type Change,
  type RunRef,
} from './progress.js';
import { LiveScreen, renderScreen } from './screen.js';
import { queryStatus, readClosedRun } from './runs.js';
import { liveAttempts, localLogTail, StepOutput, type StepLine } from './step-output.js';

/** How the changes are shown. */
export type FollowView =
  /** One compact line per change on stdout (not a TTY, and `run --wait`). */
  | 'lines'
  /** A screen redrawn in place (`watch` on a TTY). */
  | 'screen'
  /** One JSON object per change on stdout (`watch --json`). */
  | 'ndjson'
  /** Nothing while it runs (`run --wait --json` prints one object at the end). */
  | 'quiet';

/** Options of the follow loop. */
export interface FollowOptions {
  view: FollowView;
  /** Stream each step's output (see StepOutput for where it comes from). */
  verbose?: boolean;
  /** Read the history at the end for a per-stage timing breakdown. */
  profile?: boolean;
  /** Tollgate's home on this machine, where a local worker writes the stage logs. */
  home: string;
  /** Poll interval, in ms (default 500). */
  pollMs?: number;
  /** The client's payload codecs (encryption), to read the history's activity summaries for --profile. */
  codecs?: readonly PayloadCodec[];
  /** Stop once the run waits at a promotion gate: outcome `waiting-at-gate`, exit 0 (`--until-gate`). */
  untilGate?: boolean;
  /** Say on stderr when no worker polls the run's task queue, and when one appears. */
  workers?: WorkerWatch;
  /** GitHub Actions workflow commands (a group per stage, error annotations); default: under GitHub Actions. */
  github?: boolean;
}

/** The options every command that follows a run shares, from its flags and the run's own task queue. */
export function followOptions(
  settings: Settings,
  taskQueue: string,
  view: FollowView,
  flags: { verbose?: boolean; profile?: boolean; untilGate?: boolean; pollMs?: number },
): FollowOptions {
  return {
    view,
    home: settings.home,
    codecs: settings.dataConverter?.payloadCodecs ?? [],
    ...(flags.verbose ? { verbose: true } : {}),
    ...(flags.profile ? { profile: true } : {}),
    ...(flags.untilGate ? { untilGate: true } : {}),
    ...(flags.pollMs ? { pollMs: flags.pollMs } : {}),
    // Nothing waits silently: say so when no worker polls the run's queue (a closed run needs none).
    workers: { taskQueue, address: settings.temporal.connectionOptions.address ?? '' },
  };
}

/** Which queue to watch for workers, and how often. */
export interface WorkerWatch {
  taskQueue: string;
  /** The Temporal server's address, for the message. */
  address: string;
  /** The first look, in ms after following starts (default 3 s). */
  firstMs?: number;
  /** Looks again after this long without progress (default 30 s); every 5 s while none is there. */
  everyMs?: number;
}

/** How a followed run ended (or stands, at a gate): one spelling on every surface. */
export type FollowOutcome = Exclude<RunOutcome, 'running'>;

/** The gate a run waits at. */
export interface WaitingGate {
  environment: string;
  since: string;
  timeoutAt: string;
}

/** How the run ended. */
export interface FollowResult {
  exitCode: ExitCode;
  outcome: FollowOutcome;
  status: ReleaseStatus | undefined;
  /** The run followed (the workflow's current run). */
  runId?: string;
  /** The failure's message, when the run failed. */
  message?: string;
  /** With untilGate: the gate the run waits at (outcome `waiting-at-gate`). */
  gate?: WaitingGate;
  profile?: RunProfile;
}

/** Shows the run's changes until it closes; the outcome maps to 0 succeeded, 1 failed or rolled back, 4 cancelled. */
export async function follow(
  client: Client,
  handle: WorkflowHandle<ReleaseWorkflow>,
  options: FollowOptions,
): Promise<FollowResult> {
  const described = await handle.describe().catch(() => undefined);
  const run: RunRef = { workflowId: handle.workflowId, ...(described ? { runId: described.runId } : {}) };
  const view = createView(options.view, run, options.github ?? underGitHubActions());
  const startedAt = described?.startTime.getTime() ?? Date.now();
  // Each run keeps its logs in runs/<workflow>/<run>/ (runs of Tollgate 0.1 in runs/<workflow>/).
  const runDir = join(options.home, 'runs', handle.workflowId, ...(described ? [described.runId] : []));
  const steps = options.verbose ? new StepOutput(client, handle, runDir, startedAt) : undefined;
  const tails = new LocalTails(runDir);
  let latest: ReleaseStatus | undefined;
  let seen = '';
  let progressAt = Date.now();
  // A closed run is not queried (that needs a worker to replay it): its result says it all.
  let done = described !== undefined && described.status.name !== 'RUNNING';
  // Aborted when following stops at a gate: a long poll left running would be retried on a closed connection.
  const stopResult = new AbortController();
  const result = client
    .withAbortSignal(stopResult.signal, () => handle.result())
    .finally(() => (done = true));
  // Settles `done` even when nobody awaits the result yet; the outcome is read below.
  result.catch(() => undefined);
  const presence = options.workers
    ? new WorkerPresence(client, options.workers, () => progressAt)
    : undefined;
  const sleep = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  const tick = async (): Promise<void> => {
    // Output first: a stage's last lines come before the transition they led to.
    if (steps) view.steps(await steps.poll().catch(() => []));
    try {
      let status = await queryStatus(handle);
      if (options.view !== 'quiet') status = withAttempts(status, await liveAttempts(client, handle));
      latest = await tails.fill(status);
      const key = JSON.stringify(latest);
      if (key !== seen) {
        [seen, progressAt] = [key, Date.now()];
        presence?.progressed();
      }
      view.status(latest);
    } catch {
      // Not queryable yet (no workflow task processed) or already closed: try again next tick.
    }
  };
  try {
    while (!done) {
      await tick();
      const gate = options.untilGate ? waitingGate(latest) : undefined;
      if (gate) {
        const atGate: FollowResult = {
          exitCode: ExitCode.Ok,
          outcome: 'waiting-at-gate',
          status: latest,
          gate,
          ...(run.runId ? { runId: run.runId } : {}),
        };
        stopResult.abort();
        await result.catch(() => undefined);
        view.end(atGate);
        return atGate;
      }
      await sleep();
    }
  } finally {
    presence?.stop();
  }
  if (steps) view.steps(await steps.poll().catch(() => []));

  await result.catch(() => undefined);
  const ended = await outcomeOf(handle, latest);
  if (run.runId) ended.runId = run.runId;
  if (ended.status) {
    ended.status = await tails.fill(ended.status);
    view.status(ended.status);
  }
  if (options.profile) {
    const history = await handle.fetchHistory();
    // Activity summaries are payloads: with encryption on, only the client's codecs can read them.
    await decodeSummaries(history.events ?? [], options.codecs ?? []);
    ended.profile = profileFromHistory(history.events ?? []);
  }
  view.end(ended);
  return ended;
}

/** The gate the run waits at for a person (a manual gate: the phase says so), if any. */
export function waitingGate(status: ReleaseStatus | undefined): WaitingGate | undefined {
  if (status?.phase !== 'awaiting-promotion' || !status.environment) return undefined;
  const gate = status.environments[status.environment]?.gate;
  if (gate?.state !== 'waiting') return undefined;
  return { environment: status.environment, since: gate.since, timeoutAt: gate.timeoutAt };
}

/** `tollgate promote …` and `tollgate wait …` for a run waiting at a gate. */
export function nextCommands(workflowId: string): { promote: string; wait: string } {
  return { promote: `tollgate promote ${workflowId} --by <you>`, wait: `tollgate wait ${workflowId}` };
}

/** `✓ release succeeded: <id>`, the failure's message (or, at a gate, what to do next) and the UI link. */
export function outcomeLine(summary: {
  workflowId: string;
  url: string;
  /** A RunOutcome (the human spelling `rolled back` is read too). */
  outcome: string;
  message?: string;
  gate?: WaitingGate;
}): string {
  if (summary.gate) {
    const next = nextCommands(summary.workflowId);
    return [
      `⏸ release waiting at the gate before ${summary.gate.environment}: ${summary.workflowId} (until ${summary.gate.timeoutAt})`,
      `  promote it: ${next.promote}`,
      `  follow it:  ${next.wait}`,
      `  ${summary.url}`,
    ].join('\n');
  }
  const head =
    summary.outcome === 'succeeded' ? '✓ release succeeded' : `✗ release ${outcomeWords(summary.outcome)}`;
  return `${head}: ${summary.workflowId}${summary.message ? `\n  ${summary.message}` : ''}\n  ${summary.url}`;
}

/** Which run a report is about, and how to print it. */
export interface ReportTarget {
  workflowId: string;
  runId: string | undefined;
  url: string;
  json: boolean;
}

/**
 * The end of `run --wait` and `wait`: the job summary (under GitHub Actions), then one JSON
 * document (`printJson`, with workflowId and runId) or the outcome lines and the profile.
 */
export function reportOutcome(command: 'run' | 'wait', ended: FollowResult, target: ReportTarget): void {
  const { workflowId, url } = target;
  const runId = target.runId ?? ended.runId;
  const { outcome, status, message, gate, profile, exitCode } = ended;
  appendJobSummary({
    workflowId,
    ...(runId ? { runId } : {}),
    url,
    outcome,
    status,
    ...(message ? { message } : {}),
    ...(gate ? { gate } : {}),
  });
  if (target.json) {
    printJson(command, {
      workflowId,
      runId: runId ?? null,
      url,
      outcome,
      exitCode,
      ...(message ? { message } : {}),
      ...(gate ? { gate, next: nextCommands(workflowId) } : {}),
      status,
      ...(profile ? { profile } : {}),
    });
    return;
  }
  console.log(
    outcomeLine({ workflowId, url, outcome, ...(message ? { message } : {}), ...(gate ? { gate } : {}) }),
  );
  if (profile) for (const line of formatProfile(profile)) console.log(line);
}

/** Running stages with the attempt they are on (the status query says 0 until a stage ends). */
function withAttempts(status: ReleaseStatus, attempts: Map<string, number>): ReleaseStatus {
  const stages = { ...status.stages };
  for (const [name, stage] of Object.entries(stages)) {
    if (stage.state === 'running' && stage.attempts === 0) {
      stages[name as keyof typeof stages] = { ...stage, attempts: attempts.get(name) ?? 1 };
    }
  }
  return { ...status, stages };
}

/**
 * Failed stages whose status carries no log tail (their worker predates it), with the tail of
 * their log on this machine when the worker shares this TOLLGATE_HOME. Each log is read once.
 */
class LocalTails {
  private readonly read = new Map<string, Promise<string | undefined>>();

  constructor(private readonly runDir: string) {}

  async fill(status: ReleaseStatus): Promise<ReleaseStatus> {
    const missing = Object.entries(status.stages).filter(([, s]) => s.state === 'failed' && !s.logTail);
    if (missing.length === 0) return status;
    const stages: Record<string, StageStatus> = { ...status.stages };
    for (const [name, stage] of missing) {
      const path = stage.logPath ?? join(this.runDir, `${name}.log`);
      if (!this.read.has(path)) this.read.set(path, localLogTail(path, STATUS_LOG_TAIL_LINES));
      const logTail = await this.read.get(path)!;
      if (logTail) stages[name] = { ...stage, logTail, logPath: path };
    }
    return { ...status, stages };
  }
}

/**
 * Says (on stderr) that no worker polls the run's task queue: once a few seconds in, then after
 * every stretch without progress; once per absence, and again when a worker appears.
 */
class WorkerPresence {
  private absent = false;
  private stopped = false;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly client: Client,
    private readonly watch: WorkerWatch,
    private readonly progressAt: () => number,
    private readonly say: (line: string) => void = (line) => console.error(line),
  ) {
    this.timer = setTimeout(() => void this.check(true), watch.firstMs ?? 3000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The run moved: a worker took it up, whatever the last look at the queue said. */
  progressed(): void {
    if (!this.absent || this.stopped) return;
    this.absent = false;
    this.say(`tollgate: a worker picked up the run on task queue ${this.watch.taskQueue}`);
  }

  private async check(first: boolean): Promise<void> {
    const every = this.watch.everyMs ?? 30_000;
    // After the first look: only when the run stood still for a while (or nobody was there).
    if (first || this.absent || Date.now() - this.progressAt() >= every) {
      const pollers = await taskQueuePollers(this.client, this.watch.taskQueue).catch(() => undefined);
      if (this.stopped) return;
      if (pollers && pollers.workflow.length === 0 && !this.absent) {
        this.absent = true;
        this.say(`tollgate: ${noWorkerMessage(this.watch.taskQueue, this.watch.address)}; still waiting`);
      } else if (pollers && pollers.workflow.length > 0 && this.absent) {
        this.absent = false;
        const who = pollers.workflow.map((p) => p.identity).join(', ');
        this.say(`tollgate: a worker polls task queue ${this.watch.taskQueue} now (${who})`);
      }
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(false), this.absent ? Math.min(5000, every) : every);
  }
}

/** Reads the closed run's result as an outcome and exit code (its status, else the last one seen). */
async function outcomeOf(handle: WorkflowHandle, latest: ReleaseStatus | undefined): Promise<FollowResult> {
  const closed = await readClosedRun(handle);
  return {
    exitCode: closed.exitCode,
    outcome: closed.outcome,
    status: closed.status ?? latest,
    ...(closed.message ? { message: closed.message } : {}),
  };
}

/** Where the follow loop sends what it sees. */
export interface View {
  status(status: ReleaseStatus): void;
  steps(lines: StepLine[]): void;
  end(result: FollowResult): void;
}

const stepLine = ({ stage, line }: StepLine): string => `    │ ${stage}: ${line}`;

function createView(kind: FollowView, run: RunRef, github: boolean): View {
  switch (kind) {
    case 'lines':
      return new LinesView(run, github, (line) => console.log(line), false);
    case 'quiet':
      // stdout stays one JSON document: step output, failures and annotations go to stderr.
      return new LinesView(run, github, (line) => console.error(line), true);
    case 'ndjson': {
      const tracker = new ChangeTracker();
      const ids = { workflowId: run.workflowId, runId: run.runId ?? null };
      return {
        status: (s) => tracker.changes(s).forEach((c) => json({ ...ids, ...changeEvent(c) })),
        steps: (lines) => lines.forEach((l) => json({ ...ids, event: 'output', ...l })),
        end: () => undefined,
      };
    }
    case 'screen': {
      const screen = new LiveScreen(process.stdout);
      let last: ReleaseStatus | undefined;
      return {
        status: (s) => {
          last = s;
          screen.draw(renderScreen(s, { workflowId: run.workflowId, now: Date.now() }));
        },
        steps: (lines) => screen.print(lines.map(stepLine)),
        end: (r) => {
          const status = r.status ?? last;
          screen.draw(renderScreen(status, { workflowId: run.workflowId, now: Date.now() }));
          // Below the final frame: what explains each failed stage.
          for (const [name, s] of Object.entries(status?.stages ?? {})) {
            if (s.state !== 'failed') continue;
            const lines = describeFailure(name, s, run);
            if (lines.length > 0) print([`  ✗ ${name}`, ...lines]);
          }
        },
      };
    }
  }
}

/**
 * One line per change (or, quiet, only what explains a failure); a failed stage's last lines and
 * log below it. Under GitHub Actions each stage's lines (its transitions, its output) go in a
 * group of its own, what explains a failure comes right after the group, outside it (visible
 * with the group folded), and each failure becomes an error annotation.
 */
export class LinesView implements View {
  private readonly tracker = new ChangeTracker();
  private group: string | undefined;
  private annotated = false;

  constructor(
    private readonly run: RunRef,
    private readonly github: boolean,
    private readonly write: (line: string) => void,
    private readonly quiet: boolean,
  ) {}

  status(status: ReleaseStatus): void {
    for (const change of this.tracker.changes(status)) {
      if (!this.quiet) {
        if (change.kind === 'stage') this.inGroup(change.stage, [formatChange(change)]);
        else this.outside([formatChange(change)]);
      }
      if (change.kind === 'stage' && change.status.state === 'failed') {
        this.outside(describeFailure(change.stage, change.status, this.run));
        if (this.github) {
          this.outside([stageAnnotation(change.stage, change.status, this.run)]);
          this.annotated = true;
        }
      }
    }
  }

  steps(lines: StepLine[]): void {
    for (const line of lines) {
      if (this.quiet) this.write(stepLine(line));
      else this.inGroup(line.stage, [stepLine(line)]);
    }
  }

  end(result: FollowResult): void {
    this.closeGroup();
    // A run that failed without a failed stage (a rollback, a cancellation) still says why.
    if (this.github && !this.annotated && result.exitCode !== ExitCode.Ok) {
      const title = `release ${outcomeWords(result.outcome)}`;
      this.write(errorAnnotation(title, `${this.run.workflowId}: ${result.message ?? title}`));
    }
  }

  private inGroup(stage: string, lines: string[]): void {
    if (this.github && this.group !== stage) {
      this.closeGroup();
      this.write(groupStart(stage));
      this.group = stage;
    }
    lines.forEach(this.write);
  }

  private outside(lines: string[]): void {
    if (lines.length === 0) return;
    this.closeGroup();
    lines.forEach(this.write);
  }

  private closeGroup(): void {
    if (this.group === undefined) return;
    this.write(GROUP_END);
    this.group = undefined;
  }
}

function changeEvent(change: Change): Record<string, unknown> {
  switch (change.kind) {
    case 'phase':
      return { event: 'phase', phase: change.phase };
    case 'stage':
      return { event: 'stage', stage: change.stage, ...change.status };
    case 'gate':
      return { event: 'gate', ...change.gate };
    case 'sample':
      return { event: change.baseline ? 'baseline' : 'sample', ...change.sample };
    case 'canary':
      return { event: 'canary', environment: change.environment, ...change.canary };
  }
}

function print(lines: string[]): void {
  for (const line of lines) console.log(line);
}

/** One NDJSON line of `watch --json`: the envelope of docs/cli-json.md, then the event. */
function json(value: Record<string, unknown>): void {
  console.log(JSON.stringify({ ...jsonDocument('watch', value), at: new Date().toISOString() }));
}
