/** `tollgate status <run>`: where a release is, stage by stage. */
import { connectClient, runLink } from '../cli/connect.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { ProgressPrinter } from '../cli/progress.js';
import { describeRun, queryStatus } from '../cli/runs.js';
import { loadSettings } from '../settings.js';
import { describeSource } from '../workflows/ui.js';

/** Options of `tollgate status`. */
export interface StatusOptions {
  json?: boolean;
}

/** Prints the run's state; exit 2 for an unknown run id. */
export async function status(workflowId: string, options: StatusOptions): Promise<number> {
  const settings = loadSettings();
  const { client, connection, namespace } = await connectClient(settings);
  try {
    const handle = client.workflow.getHandle(workflowId);
    const description = await describeRun(client, workflowId);
    const state = await queryStatus(handle).catch((error: unknown) => {
      const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ExitError(
        ExitCode.Failed,
        `cannot read the status of ${workflowId} (${description.type}, ${description.status.name}): ${why}; the worker answers status queries, so check it runs on task queue ${settings.taskQueue}`,
      );
    });
    const url = runLink(settings, namespace, workflowId, description.runId);
    if (options.json) {
      console.log(JSON.stringify({ workflowId, execution: description.status.name, url, ...state }, null, 2));
      return ExitCode.Ok;
    }
    console.log(
      `${workflowId} — ${state.app} @ ${describeSource(state.source)} — ${description.status.name} (${state.phase}${state.environment ? `, ${state.environment}` : ''})`,
    );
    for (const line of new ProgressPrinter().update(state).slice(1)) console.log(line);
    if (state.failure) console.log(`  failure: ${state.failure}`);
    console.log(`  ${url}`);
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}
