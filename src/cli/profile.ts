/**
 * `--profile`: a per-stage timing breakdown read from a run's workflow history. Pure over the
 * events, so it works on `handle.fetchHistory()` and on `temporal workflow show --output json`.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';

/** A 64-bit integer as the SDK (Long), JSON (string) or a test (number) gives it. */
type Int = number | string | { toString(): string } | null | undefined;

/** A payload as the SDK (bytes) or JSON (base64) gives it. */
interface PayloadLike {
  data?: Uint8Array | string | null;
}

/** The parts of a history event the profile reads; the SDK's `IHistoryEvent` fits it. */
export interface ProfileEvent {
  eventId?: Int;
  eventTime?: { seconds?: Int; nanos?: number | null } | string | null;
  eventType?: number | string | null;
  userMetadata?: { summary?: PayloadLike | null } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: Int; attempt?: number | null } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: Int } | null;
  activityTaskFailedEventAttributes?: { scheduledEventId?: Int } | null;
  activityTaskTimedOutEventAttributes?: { scheduledEventId?: Int } | null;
  activityTaskCanceledEventAttributes?: { scheduledEventId?: Int } | null;
}

/** One stage's (or step's) timings; activities sharing a label (verification samples) add up. */
export interface StageProfile {
  /** The activity's summary up to any ':' (the stage name for stages), else its type. */
  stage: string;
  /** Activity executions under this label. */
  activities: number;
  /** Scheduled → started of first attempts: time spent waiting for a worker to pick the task up. */
  queueWaitMs: number;
  /**
   * Scheduled → started of retried activities. The server records only the last attempt's start,
   * so this is the earlier attempts, their backoff and the last attempt's queue wait together.
   */
  retryWaitMs: number;
  /** Started → closed of the last attempt (the whole span for activities that never started). */
  runMs: number;
  /** Attempts − 1, summed. */
  retries: number;
  /** How the last execution under this label ended. */
  outcome: 'completed' | 'failed' | 'timed-out' | 'cancelled' | 'open';
}

/** The breakdown for a run. */
export interface RunProfile {
  stages: StageProfile[];
  /** Sums over the stages (run time overlaps where stages ran in parallel). */
  total: { queueWaitMs: number; retryWaitMs: number; runMs: number; retries: number };
  /** Workflow start → last event: the run's wall-clock time. */
  wallMs: number;
}

// Numeric values of temporal.api.enums.v1.EventType; JSON histories spell them out.
const EVENT = {
  10: 'ACTIVITY_TASK_SCHEDULED',
  11: 'ACTIVITY_TASK_STARTED',
  12: 'ACTIVITY_TASK_COMPLETED',
  13: 'ACTIVITY_TASK_FAILED',
  14: 'ACTIVITY_TASK_TIMED_OUT',
  16: 'ACTIVITY_TASK_CANCELED',
} as const;

const CLOSE: Record<string, StageProfile['outcome']> = {
  ACTIVITY_TASK_COMPLETED: 'completed',
  ACTIVITY_TASK_FAILED: 'failed',
  ACTIVITY_TASK_TIMED_OUT: 'timed-out',
  ACTIVITY_TASK_CANCELED: 'cancelled',
};

interface Execution {
  label: string;
  scheduledAt: number;
  startedAt?: number;
  attempt: number;
  closedAt?: number;
  outcome: StageProfile['outcome'];
}

/** The timing breakdown of a run from its history events, stages in the order they were first scheduled. */
export function profileFromHistory(events: readonly ProfileEvent[]): RunProfile {
  const executions = new Map<string, Execution>();
  let first: number | undefined;
  let last: number | undefined;
  for (const event of events) {
    const at = eventMillis(event.eventTime);
    if (at !== undefined) {
      first ??= at;
      last = at;
    }
    const type = eventType(event.eventType);
    if (type === 'ACTIVITY_TASK_SCHEDULED') {
      const label =
        stageLabel(decodeString(event.userMetadata?.summary)) ??
        event.activityTaskScheduledEventAttributes?.activityType?.name ??
        'activity';
      executions.set(String(event.eventId), { label, scheduledAt: at ?? 0, attempt: 1, outcome: 'open' });
    } else if (type === 'ACTIVITY_TASK_STARTED') {
      const attrs = event.activityTaskStartedEventAttributes;
      const execution = executions.get(String(attrs?.scheduledEventId));
      if (!execution) continue;
      execution.startedAt = at;
      execution.attempt = Math.max(1, attrs?.attempt ?? 1);
    } else if (type && type in CLOSE) {
      const attrs =
        event.activityTaskCompletedEventAttributes ??
        event.activityTaskFailedEventAttributes ??
        event.activityTaskTimedOutEventAttributes ??
        event.activityTaskCanceledEventAttributes;
      const execution = executions.get(String(attrs?.scheduledEventId));
      if (!execution) continue;
      execution.closedAt = at;
      execution.outcome = CLOSE[type]!;
    }
  }

  const stages = new Map<string, StageProfile>();
  for (const e of executions.values()) {
    const profile = stages.get(e.label) ?? {
      stage: e.label,
      activities: 0,
      queueWaitMs: 0,
      retryWaitMs: 0,
      runMs: 0,
      retries: 0,
      outcome: e.outcome,
    };
    const end = e.closedAt ?? last ?? e.scheduledAt;
    const waited = (e.startedAt ?? end) - e.scheduledAt;
    profile.activities += 1;
    if (e.attempt > 1) profile.retryWaitMs += waited;
    else profile.queueWaitMs += waited;
    profile.runMs += e.startedAt === undefined ? 0 : end - e.startedAt;
    profile.retries += e.attempt - 1;
    profile.outcome = e.outcome;
    stages.set(e.label, profile);
  }
  const list = [...stages.values()];
  const sum = (key: 'queueWaitMs' | 'retryWaitMs' | 'runMs' | 'retries'): number =>
    list.reduce((total, s) => total + s[key], 0);
  return {
    stages: list,
    total: {
      queueWaitMs: sum('queueWaitMs'),
      retryWaitMs: sum('retryWaitMs'),
      runMs: sum('runMs'),
      retries: sum('retries'),
    },
    wallMs: first !== undefined && last !== undefined ? last - first : 0,
  };
}

/** The profile as a table for the terminal. */
export function formatProfile(profile: RunProfile): string[] {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
  const width = Math.max(24, ...profile.stages.map((s) => s.stage.length + (s.activities > 1 ? 5 : 0)));
  const row = (name: string, queue: string, retry: string, run: string, retries: string): string =>
    `  ${name.padEnd(width)} ${queue.padStart(8)} ${retry.padStart(10)} ${run.padStart(8)} ${retries.padStart(7)}`;
  return [
    'Profile (from the workflow history):',
    row('stage', 'queue', 'retrying', 'run', 'retries'),
    ...profile.stages.map((s) =>
      row(
        s.activities > 1 ? `${s.stage} ×${s.activities}` : s.stage,
        seconds(s.queueWaitMs),
        s.retryWaitMs ? seconds(s.retryWaitMs) : '-',
        seconds(s.runMs),
        String(s.retries),
      ),
    ),
    row(
      'total',
      seconds(profile.total.queueWaitMs),
      profile.total.retryWaitMs ? seconds(profile.total.retryWaitMs) : '-',
      seconds(profile.total.runMs),
      String(profile.total.retries),
    ),
    `  wall clock ${seconds(profile.wallMs)} (stages run in parallel, so run times can add up to more)`,
  ];
}

function eventType(value: ProfileEvent['eventType']): string | undefined {
  if (typeof value === 'number') return EVENT[value as keyof typeof EVENT];
  return value?.replace(/^EVENT_TYPE_/, '');
}

function eventMillis(time: ProfileEvent['eventTime']): number | undefined {
  if (!time) return undefined;
  if (typeof time === 'string') {
    const ms = Date.parse(time);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return Number(String(time.seconds ?? 0)) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

/** Decodes the events' activity summaries in place with the client's codecs (encryption), last codec first. */
export async function decodeSummaries(
  events: { userMetadata?: { summary?: Payload | null } | null }[],
  codecs: readonly PayloadCodec[],
): Promise<void> {
  if (codecs.length === 0) return;
  for (const event of events) {
    let summary: Payload | undefined = event.userMetadata?.summary ?? undefined;
    if (!summary) continue;
    for (const codec of [...codecs].reverse()) if (summary) [summary] = await codec.decode([summary]);
    event.userMetadata!.summary = summary ?? null;
  }
}

/** A JSON-encoded string payload (what `summary` becomes), from bytes or base64. */
function decodeString(payload: PayloadLike | null | undefined): string | undefined {
  const data = payload?.data;
  if (data === undefined || data === null) return undefined;
  try {
    const text =
      typeof data === 'string'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(data).toString('utf8');
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `deploy-to-staging: saas-app-3f2a9c1-1b2c3d4e` → `deploy-to-staging`. */
function stageLabel(summary: string | undefined): string | undefined {
  const label = summary?.split(':')[0]?.trim();
  return label || undefined;
}
