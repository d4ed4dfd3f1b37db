/** `tollgate schedule apply|status|trigger|pause|unpause|delete`: the app's daily health schedule. */
import { printJson } from '../cli/json.js';
import {
  ScheduleNotFoundError,
  type CalendarSpecDescription,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
} from '@temporalio/client';
import { loadConfigOrExit } from '../cli/config.js';
import { connectClient } from '../cli/connect.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { applyHealthSchedule, healthScheduleId } from '../cli/schedule.js';
import type { ResolvedConfig } from '../config/index.js';
import { loadSettings, type Settings } from '../settings.js';
import type { dailyHealthCheck } from '../workflows/daily-health.js';
import { followHealth } from './health.js';

/** Options shared by the schedule commands. */
export interface ScheduleOptions {
  config?: string;
  json?: boolean;
  /** pause/unpause: why, shown as the schedule's note. */
  reason?: string;
  /** trigger: wait for the run and print its report. */
  wait?: boolean;
}

/** Creates the schedule, or brings an existing one up to the config (spec, input, task queue). */
export function scheduleApply(options: ScheduleOptions): Promise<number> {
  return withSchedule(options, async ({ client, config, settings, handle }) => {
    const outcome = await applyHealthSchedule(client, config, settings);
    const { cron, timezone } = config.health.schedule;
    const next = (await handle.describe()).info.nextActionTimes[0];
    if (options.json)
      printJson('schedule apply', { scheduleId: handle.scheduleId, outcome, cron, timezone, next });
    else
      console.log(
        `${outcome === 'created' ? 'Created' : 'Updated'} ${handle.scheduleId}: \`${cron}\` (${timezone})${next ? `, next run ${next.toISOString()}` : ''}`,
      );
    return ExitCode.Ok;
  });
}

/** Shows the spec, whether it is paused, the next run times and the recent runs with their status. */
export function scheduleStatus(options: ScheduleOptions): Promise<number> {
  return withSchedule(options, async ({ client, handle }) => {
    const description = await describeOrExit(handle);
    const recent = await Promise.all(
      description.info.recentActions.map(async (a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        takenAt: a.takenAt.toISOString(),
        workflowId: a.action.workflow.workflowId,
        status: await client.workflow
          .getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId)
          .describe()
          .then((d) => d.status.name as string)
          .catch(() => 'unknown'),
      })),
    );
    const summary = {
      scheduleId: handle.scheduleId,
      spec: describeSpec(description),
      timezone: description.spec.timezone ?? 'UTC',
      paused: description.state.paused,
      ...(description.state.note ? { note: description.state.note } : {}),
      taskQueue: description.action.taskQueue,
      catchupWindowMs: description.policies.catchupWindow,
      overlap: description.policies.overlap,
      nextRuns: description.info.nextActionTimes.map((t) => t.toISOString()),
      recentRuns: recent,
    };
    if (options.json) {
      printJson('schedule status', summary);
      return ExitCode.Ok;
    }
    console.log(
      `${summary.scheduleId}: ${summary.paused ? 'PAUSED' : 'active'}${summary.note ? ` (${summary.note})` : ''}`,
    );
    console.log(
      `  spec:     ${summary.spec} (${summary.timezone}), overlap ${summary.overlap}, task queue ${summary.taskQueue}`,
    );
    console.log(`  next:     ${summary.nextRuns.slice(0, 3).join(', ') || '-'}`);
    if (recent.length === 0) console.log('  recent:   none yet');
    for (const run of recent) console.log(`  recent:   ${run.takenAt} ${run.workflowId} ${run.status}`);
    return ExitCode.Ok;
  });
}

/** Starts a run now through the schedule (it shows among its recent actions); --wait prints the report. */
export function scheduleTrigger(options: ScheduleOptions): Promise<number> {
  return withSchedule(options, async ({ client, handle }) => {
    const before = (await describeOrExit(handle)).info.numActionsTaken;
    await handle.trigger();
    if (!options.wait) {
      if (options.json) printJson('schedule trigger', { scheduleId: handle.scheduleId, triggered: true });
      else console.log(`Triggered ${handle.scheduleId}`);
      return ExitCode.Ok;
    }
    const started = await waitForAction(handle, before);
    if (!options.json) console.log(`Triggered ${handle.scheduleId}: ${started.workflowId}`);
    return followHealth(
      client.workflow.getHandle<typeof dailyHealthCheck>(started.workflowId, started.firstExecutionRunId),
      options,
    );
  });
}

/** Pauses the schedule (runs stop until unpause); the reason becomes its note. */
export function schedulePause(options: ScheduleOptions): Promise<number> {
  return withSchedule(options, async ({ handle }) => {
    await describeOrExit(handle);
    await handle.pause(options.reason ?? 'paused with tollgate schedule pause');
    console.log(`Paused ${handle.scheduleId}`);
    return ExitCode.Ok;
  });
}

/** Resumes a paused schedule. */
export function scheduleUnpause(options: ScheduleOptions): Promise<number> {
  return withSchedule(options, async ({ handle }) => {
    await describeOrExit(handle);
    await handle.unpause(options.reason ?? 'unpaused with tollgate schedule unpause');
    console.log(`Unpaused ${handle.scheduleId}`);
    return ExitCode.Ok;
  });
}

/** Deletes the schedule; runs it already started are not affected. */
export function scheduleDelete(options: ScheduleOptions): Promise<number> {
  return withSchedule(options, async ({ handle }) => {
    await handle.delete().catch((error: unknown) => {
      throw notFound(error, handle.scheduleId);
    });
    console.log(`Deleted ${handle.scheduleId}`);
    return ExitCode.Ok;
  });
}

interface ScheduleContext {
  client: Client;
  config: ResolvedConfig;
  settings: Settings;
  handle: ScheduleHandle;
}

async function withSchedule(
  options: ScheduleOptions,
  fn: (context: ScheduleContext) => Promise<number>,
): Promise<number> {
  const config = await loadConfigOrExit(options.config);
  const settings = loadSettings();
  const { client, connection } = await connectClient(settings);
  try {
    return await fn({
      client,
      config,
      settings,
      handle: client.schedule.getHandle(healthScheduleId(config.app)),
    });
  } finally {
    await connection.close();
  }
}

function describeOrExit(handle: ScheduleHandle): Promise<ScheduleDescription> {
  return handle.describe().catch((error: unknown) => {
    throw notFound(error, handle.scheduleId);
  });
}

function notFound(error: unknown, scheduleId: string): unknown {
  return error instanceof ScheduleNotFoundError
    ? new ExitError(
        ExitCode.BadInput,
        `no schedule ${scheduleId}: create it with \`tollgate schedule apply\``,
      )
    : error;
}

/** The workflow a trigger started: the schedule's newest action once it has taken one more. */
async function waitForAction(
  handle: ScheduleHandle,
  before: number,
  timeoutMs = 30_000,
): Promise<{ workflowId: string; firstExecutionRunId: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { info } = await handle.describe();
    const latest = info.recentActions.at(-1);
    if (info.numActionsTaken > before && latest) return latest.action.workflow;
    if (Date.now() > deadline) {
      throw new ExitError(
        ExitCode.Failed,
        `${handle.scheduleId} did not start a run within ${timeoutMs / 1000} s (overlap SKIP: is one still running?)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The spec as cron-like text, from the calendars the server compiled the cron expression into. */
export function describeSpec(description: ScheduleDescription): string {
  const calendars = description.spec.calendars ?? [];
  if (calendars.length === 0) return 'no calendar spec';
  return calendars.map(calendarText).join(' | ');
}

function calendarText(calendar: CalendarSpecDescription): string {
  // A single range over the field's whole domain is '*'.
  const field = (
    ranges: readonly { start: unknown; end: unknown; step: number }[],
    all: [unknown, unknown],
  ): string => {
    const [first] = ranges;
    if (
      ranges.length === 0 ||
      (ranges.length === 1 && first!.start === all[0] && first!.end === all[1] && first!.step <= 1)
    )
      return '*';
    return ranges
      .map((r) => {
        const range = r.end === r.start ? String(r.start) : `${String(r.start)}-${String(r.end)}`;
        return r.step > 1 ? `${range}/${r.step}` : range;
      })
      .join(',');
  };
  return [
    field(calendar.minute, [0, 59]),
    field(calendar.hour, [0, 23]),
    field(calendar.dayOfMonth, [1, 31]),
    field(calendar.month, ['JANUARY', 'DECEMBER']),
    field(calendar.dayOfWeek, ['SUNDAY', 'SATURDAY']),
  ].join(' ');
}
