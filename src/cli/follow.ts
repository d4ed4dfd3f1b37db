/** Follows a release until it closes, for `run --wait` and `watch`: polls the status query and shows each change. */
import type { PayloadCodec } from '@temporalio/common';
import { join } from 'node:path';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { ReleaseResult, ReleaseStatus } from '../types.js';
import type { ReleaseWorkflow } from '../workflows/release/index.js';
import { ExitCode } from './exit.js';
import { decodeSummaries, profileFromHistory, type RunProfile } from './profile.js';
import { ChangeTracker, formatChange, type Change } from './progress.js';
import { LiveScreen, renderScreen } from './screen.js';
import { queryStatus, statusFrom } from './runs.js';
import { liveAttempts, StepOutput, type StepLine } from './step-output.js';

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
}

/** How the run ended. */
export interface FollowResult {
  exitCode: ExitCode;
  outcome: 'succeeded' | 'failed' | 'rolled back' | 'cancelled';
  status: ReleaseStatus | undefined;
  /** The failure's message, when the run failed. */
  message?: string;
  profile?: RunProfile;
}

/** Shows the run's changes until it closes; the outcome maps to 0 succeeded, 1 failed or rolled back, 4 cancelled. */
export async function follow(
  client: Client,
  handle: WorkflowHandle<ReleaseWorkflow>,
  options: FollowOptions,
): Promise<FollowResult> {
  const view = createView(options.view, handle.workflowId);
  const described = await handle.describe().catch(() => undefined);
  const startedAt = described?.startTime.getTime() ?? Date.now();
  // Each run keeps its logs in runs/<workflow>/<run>/ (runs of Tollgate 0.1 in runs/<workflow>/).
  const runDir = join(options.home, 'runs', handle.workflowId, ...(described ? [described.runId] : []));
  const steps = options.verbose ? new StepOutput(client, handle, runDir, startedAt) : undefined;
  let latest: ReleaseStatus | undefined;
  let done = false;
  const result = handle.result().finally(() => (done = true));
  // Settles `done` even when nobody awaits the result yet; the outcome is read below.
  result.catch(() => undefined);
  const sleep = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  const tick = async (): Promise<void> => {
    // Output first: a stage's last lines come before the transition they led to.
    if (steps) view.steps(await steps.poll().catch(() => []));
    try {
      latest = await queryStatus(handle);
      if (options.view !== 'quiet') latest = withAttempts(latest, await liveAttempts(client, handle));
      view.status(latest);
    } catch {
      // Not queryable yet (no workflow task processed) or already closed: try again next tick.
    }
  };
  while (!done) {
    await tick();
    await sleep();
  }
  if (steps) view.steps(await steps.poll().catch(() => []));

  const ended = await outcomeOf(result, latest);
  if (ended.status) view.status(ended.status);
  if (options.profile) {
    const history = await handle.fetchHistory();
    // Activity summaries are payloads: with encryption on, only the client's codecs can read them.
    await decodeSummaries(history.events ?? [], options.codecs ?? []);
    ended.profile = profileFromHistory(history.events ?? []);
  }
  view.end(ended);
  return ended;
}

/** `✓ release succeeded: <id>`, the failure's message and the UI link. */
export function outcomeLine(summary: {
  workflowId: string;
  url: string;
  outcome: string;
  message?: string;
}): string {
  const head = summary.outcome === 'succeeded' ? '✓ release succeeded' : `✗ release ${summary.outcome}`;
  return `${head}: ${summary.workflowId}${summary.message ? `\n  ${summary.message}` : ''}\n  ${summary.url}`;
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

/** Reads the closed run's result as an outcome and exit code. */
async function outcomeOf(
  result: Promise<ReleaseResult | { outcome: ReleaseResult['outcome']; status: unknown }>,
  latest: ReleaseStatus | undefined,
): Promise<FollowResult> {
  try {
    const { outcome } = await result;
    const status = statusFrom((await result).status);
    if (outcome === 'succeeded') return { exitCode: ExitCode.Ok, outcome, status };
    if (outcome === 'cancelled') return { exitCode: ExitCode.Cancelled, outcome, status };
    return {
      exitCode: ExitCode.Failed,
      outcome: outcome === 'rolled-back' ? 'rolled back' : 'failed',
      status,
    };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const cause = error.cause;
    const cancelled =
      cause instanceof CancelledFailure ||
      cause instanceof TerminatedFailure ||
      cause instanceof TimeoutFailure;
    const status =
      (cause && 'details' in cause && Array.isArray(cause.details)
        ? statusFrom(cause.details[0])
        : undefined) ?? latest;
    return {
      exitCode: cancelled ? ExitCode.Cancelled : ExitCode.Failed,
      outcome: cancelled ? 'cancelled' : status?.phase === 'rolled-back' ? 'rolled back' : 'failed',
      status,
      message: cause?.message ?? error.message,
    };
  }
}

/** Where the follow loop sends what it sees. */
interface View {
  status(status: ReleaseStatus): void;
  steps(lines: StepLine[]): void;
  end(result: FollowResult): void;
}

function createView(kind: FollowView, workflowId: string): View {
  const tracker = new ChangeTracker();
  const stepLine = ({ stage, line }: StepLine): string => `    │ ${stage}: ${line}`;
  switch (kind) {
    case 'lines':
      return {
        status: (s) => print(tracker.changes(s).map(formatChange)),
        steps: (lines) => print(lines.map(stepLine)),
        end: () => undefined,
      };
    case 'quiet':
      // stdout stays one JSON document: step output goes to stderr.
      return {
        status: () => undefined,
        steps: (lines) => lines.forEach((l) => console.error(stepLine(l))),
        end: () => undefined,
      };
    case 'ndjson':
      return {
        status: (s) => tracker.changes(s).forEach((c) => json({ workflowId, ...changeEvent(c) })),
        steps: (lines) => lines.forEach((l) => json({ workflowId, event: 'output', ...l })),
        end: () => undefined,
      };
    case 'screen': {
      const screen = new LiveScreen(process.stdout);
      let last: ReleaseStatus | undefined;
      return {
        status: (s) => {
          last = s;
          screen.draw(renderScreen(s, { workflowId, now: Date.now() }));
        },
        steps: (lines) => screen.print(lines.map(stepLine)),
        end: (r) => screen.draw(renderScreen(r.status ?? last, { workflowId, now: Date.now() })),
      };
    }
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
  }
}

function print(lines: string[]): void {
  for (const line of lines) console.log(line);
}

function json(value: Record<string, unknown>): void {
  console.log(JSON.stringify({ at: new Date().toISOString(), ...value }));
}
