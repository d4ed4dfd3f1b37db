/** `tollgate watch <run>`: a live view of a release until it closes. */
import { connectClient, runLink } from '../cli/connect.js';
import { follow, followOptions, outcomeLine } from '../cli/follow.js';
import { formatProfile } from '../cli/profile.js';
import { jsonDocument } from '../cli/json.js';
import { describeRun } from '../cli/runs.js';
import { loadSettings } from '../settings.js';
import type { ReleaseWorkflow } from '../workflows/release/index.js';

/** Options of `tollgate watch`. */
export interface WatchOptions {
  /** One JSON object per change (NDJSON). */
  json?: boolean;
  /** Stream each step's output as it runs. */
  verbose?: boolean;
  /** End with a per-stage timing breakdown from the workflow history. */
  profile?: boolean;
  /** Poll interval, in ms. */
  pollMs?: number;
}

/** Follows the run; exits as `run --wait` does: 0 succeeded, 1 failed or rolled back, 4 cancelled. */
export async function watch(workflowId: string, options: WatchOptions): Promise<number> {
  const settings = loadSettings();
  const { client, connection, namespace } = await connectClient(settings);
  try {
    const description = await describeRun(client, workflowId);
    const url = runLink(settings, namespace, workflowId, description.runId);
    const handle = client.workflow.getHandle<ReleaseWorkflow>(workflowId);
    const tty = process.stdout.isTTY === true;
    if (!options.json && !tty) console.log(`Watching ${workflowId}\n  ${url}`);
    const view = options.json ? 'ndjson' : tty ? 'screen' : 'lines';
    const ended = await follow(client, handle, followOptions(settings, description.taskQueue, view, options));
    const { exitCode, outcome, message, profile } = ended;
    if (options.json) {
      const ids = { workflowId, runId: description.runId };
      if (profile)
        console.log(JSON.stringify(jsonDocument('watch', { ...ids, event: 'profile', ...profile })));
      console.log(
        JSON.stringify(
          jsonDocument('watch', {
            ...ids,
            event: 'end',
            outcome,
            exitCode,
            url,
            ...(message ? { message } : {}),
          }),
        ),
      );
    } else {
      console.log(outcomeLine({ workflowId, url, outcome, ...(message ? { message } : {}) }));
      if (profile) for (const line of formatProfile(profile)) console.log(line);
    }
    return exitCode;
  } finally {
    await connection.close();
  }
}
