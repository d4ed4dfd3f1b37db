/** `tollgate wait <run>`: follows a run that is already going (a later CI job) and exits with its outcome. */
import { connectClient, runLink } from '../cli/connect.js';
import { follow, followOptions, reportOutcome } from '../cli/follow.js';
import { describeRun } from '../cli/runs.js';
import { loadSettings } from '../settings.js';
import type { ReleaseWorkflow } from '../workflows/release/index.js';

/** Options of `tollgate wait`. */
export interface WaitOptions {
  /** One JSON object at the end (nothing while it runs; failures and --verbose output go to stderr). */
  json?: boolean;
  /** Exit 0 once the run waits at a promotion gate (at once if it waits there now). */
  untilGate?: boolean;
  /** Stream each step's output as it runs. */
  verbose?: boolean;
  /** Poll interval, in ms. */
  pollMs?: number;
}

/** Follows the run one line per change (never redrawn: CI logs); exits 0 succeeded, 1 failed or rolled back, 4 cancelled. */
export async function wait(workflowId: string, options: WaitOptions): Promise<number> {
  const settings = loadSettings();
  const { client, connection, namespace } = await connectClient(settings);
  try {
    const description = await describeRun(client, workflowId);
    const url = runLink(settings, namespace, workflowId, description.runId);
    const handle = client.workflow.getHandle<ReleaseWorkflow>(workflowId);
    if (!options.json) console.log(`Waiting for ${workflowId}\n  ${url}`);
    const view = options.json ? 'quiet' : 'lines';
    const ended = await follow(client, handle, followOptions(settings, description.taskQueue, view, options));
    reportOutcome('wait', ended, { workflowId, runId: description.runId, url, json: options.json === true });
    return ended.exitCode;
  } finally {
    await connection.close();
  }
}
