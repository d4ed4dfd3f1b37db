/**
 * The daily health schedule: its ID, the workflow input resolved from the config, and an
 * idempotent apply (create, or update when it exists). Shared by `tollgate schedule` and tests.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { ResolvedConfig } from '../config/index.js';
import type { Settings } from '../settings.js';
import type { DailyHealthInput } from '../types.js';
import type { dailyHealthCheck } from '../workflows/daily-health.js';

/** The workflow type the schedule starts. */
export const DAILY_HEALTH_WORKFLOW = 'dailyHealthCheck';

/** Missed runs older than this are skipped (the server's default of a year would replay every missed morning). */
export const CATCHUP_WINDOW: Duration = '1 minute';

/** One schedule per app. */
export const healthScheduleId = (app: string): string => `tollgate-daily-health-${app}`;

/** The daily health workflow's input, from the resolved config (names of secrets only). */
export function healthInput(
  config: ResolvedConfig,
  settings: Pick<Settings, 'runnerOverride' | 'uiUrl'>,
): DailyHealthInput {
  const healthStage = config.health.stage
    ? config.stages.find((s) => s.name === config.health.stage)
    : undefined;
  return {
    schemaVersion: 2,
    app: config.app,
    source: { repository: config.location.repository, subdir: config.location.subdir },
    runner: settings.runnerOverride ?? config.runner,
    ...(healthStage ? { healthStage } : {}),
    dependencies: config.dependencies,
    environments: config.environments.map((link) => link.environment),
    ...(config.revenue ? { revenue: { ...config.revenue, maxAgeMs: config.health.revenueMaxAgeMs } } : {}),
    notifications: { ...config.notifications, uiUrl: settings.uiUrl },
  };
}

/** A run may take the health stage's full retry budget, plus slack for the quick checks. */
function runTimeoutMs(input: DailyHealthInput): number {
  const stage = input.healthStage;
  const stageBudget = stage ? (stage.timeoutMs + 60_000) * stage.retry.maximumAttempts : 0;
  return stageBudget + 15 * 60_000;
}

/** The schedule's action: start dailyHealthCheck on the settings' task queue. */
export function healthAction(
  config: ResolvedConfig,
  settings: Pick<Settings, 'runnerOverride' | 'taskQueue' | 'uiUrl'>,
): ScheduleOptionsStartWorkflowAction<typeof dailyHealthCheck> {
  const input = healthInput(config, settings);
  const { cron, timezone } = config.health.schedule;
  return {
    type: 'startWorkflow',
    workflowType: DAILY_HEALTH_WORKFLOW,
    // The server appends the scheduled time to this ID for each run.
    workflowId: healthScheduleId(config.app),
    taskQueue: settings.taskQueue,
    args: [input],
    // A stuck run would make SKIP skip every later morning: the run timeout bounds it.
    workflowRunTimeout: runTimeoutMs(input),
    staticSummary: `Daily health of ${config.app}`,
    staticDetails: `**schedule** \`${cron}\` (${timezone}) · **environments** ${input.environments.map((e) => e.name).join(', ') || 'none'}`,
  };
}

/** Creates the app's schedule, or updates it to the config when it exists; keeps a pause in place. */
export async function applyHealthSchedule(
  client: Client,
  config: ResolvedConfig,
  settings: Pick<Settings, 'runnerOverride' | 'taskQueue' | 'uiUrl'>,
): Promise<'created' | 'updated'> {
  const scheduleId = healthScheduleId(config.app);
  const { cron, timezone } = config.health.schedule;
  const spec = { cronExpressions: [cron], timezone };
  const action = healthAction(config, settings);
  const policies = {
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: CATCHUP_WINDOW,
    pauseOnFailure: false,
  };
  try {
    await client.schedule.create<typeof dailyHealthCheck>({ scheduleId, spec, action, policies });
    return 'created';
  } catch (error) {
    // Create is not idempotent: an existing schedule is brought up to date instead.
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule
    .getHandle(scheduleId)
    .update<typeof dailyHealthCheck>((previous: ScheduleDescription) => ({
      spec,
      action,
      policies,
      state: { paused: previous.state.paused, ...(previous.state.note ? { note: previous.state.note } : {}) },
    }));
  return 'updated';
}
