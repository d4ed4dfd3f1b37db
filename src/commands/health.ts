/** `tollgate health`: runs the daily health workflow now and, with --wait, prints its report. */
import { printJson } from '../cli/json.js';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { loadConfigOrExit } from '../cli/config.js';
import { connectClient, runLink } from '../cli/connect.js';
import { ExitCode } from '../cli/exit.js';
import { DAILY_HEALTH_WORKFLOW, healthInput } from '../cli/schedule.js';
import { loadSettings } from '../settings.js';
import type { DailyHealthReport } from '../types.js';
import type { dailyHealthCheck } from '../workflows/daily-health.js';

/** Options of `tollgate health`. */
export interface HealthOptions {
  config?: string;
  wait?: boolean;
  json?: boolean;
}

/** Starts a health run; with --wait exits 0 when every check passed, 1 when one failed. */
export async function health(options: HealthOptions): Promise<number> {
  const config = await loadConfigOrExit(options.config);
  const settings = loadSettings();
  const { client, connection, namespace } = await connectClient(settings);
  try {
    const workflowId = `tollgate-health-${config.app}-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start<typeof dailyHealthCheck>(DAILY_HEALTH_WORKFLOW, {
      taskQueue: settings.taskQueue,
      workflowId,
      args: [healthInput(config, settings)],
      staticSummary: `Health check of ${config.app} (on demand)`,
    });
    const url = runLink(settings, namespace, workflowId, handle.firstExecutionRunId);
    if (!options.wait) {
      if (options.json) printJson('health', { workflowId, runId: handle.firstExecutionRunId, url });
      else console.log(`Started ${workflowId}\n  ${url}`);
      return ExitCode.Ok;
    }
    if (!options.json) console.log(`Started ${workflowId}\n  ${url}`);
    return await followHealth(handle, options);
  } finally {
    await connection.close();
  }
}

/** Waits for a health run and prints its report; the exit code says whether every check passed. */
export async function followHealth(
  handle: WorkflowHandle<typeof dailyHealthCheck>,
  options: { json?: boolean },
): Promise<number> {
  let report: DailyHealthReport;
  try {
    report = await handle.result();
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const message = error.cause?.message ?? error.message;
    if (options.json) {
      printJson('health', { workflowId: handle.workflowId, runId: await runIdOf(handle), error: message });
    } else console.log(`✗ health run ${handle.workflowId} failed: ${message}`);
    return ExitCode.Failed;
  }
  if (options.json)
    printJson('health', { workflowId: handle.workflowId, runId: await runIdOf(handle), ...report });
  else for (const line of reportLines(report)) console.log(line);
  return report.ok ? ExitCode.Ok : ExitCode.Failed;
}

/** The report as lines: one per check, then the verdict. */
export function reportLines(report: DailyHealthReport): string[] {
  const failed = report.checks.filter((c) => !c.ok).length;
  return [
    ...report.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`),
    report.ok
      ? `✓ ${report.app} is healthy (${report.checks.length} checks)`
      : `✗ ${report.app}: ${failed} of ${report.checks.length} checks failed`,
  ];
}

/** The run id of the handle's run, from the server. */
async function runIdOf(handle: WorkflowHandle): Promise<string | null> {
  return (await handle.describe().catch(() => undefined))?.runId ?? null;
}
