/** `tollgate status <run>`: where a release is, stage by stage (a closed run's from its history). */
import { connectClient, runLink } from '../cli/connect.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { printJson } from '../cli/json.js';
import { noWorkerMessage, taskQueuePollers } from '../cli/pollers.js';
import { ProgressPrinter } from '../cli/progress.js';
import { describeRun, queryStatus, readClosedRun } from '../cli/runs.js';
import { loadSettings } from '../settings.js';
import type { ReleaseStatus } from '../types.js';
import { canaryLines, describeSource } from '../workflows/ui.js';

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
    const running = description.status.name === 'RUNNING';
    let state: ReleaseStatus | undefined;
    let message: string | undefined;
    if (running) {
      // Only a worker answers a query: say which one is missing rather than hang on a dead queue.
      state = await queryStatus(handle).catch(async (error: unknown) => {
        const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
        const pollers = await taskQueuePollers(client, description.taskQueue).catch(() => undefined);
        const address = settings.temporal.connectionOptions.address ?? 'localhost:7233';
        throw new ExitError(
          ExitCode.Failed,
          `cannot read the status of ${workflowId} (${description.type}, RUNNING): ${why}; ${pollers?.workflow.length === 0 ? noWorkerMessage(description.taskQueue, address) : `the worker answers status queries: check it runs on task queue ${description.taskQueue}`}`,
        );
      });
    } else {
      // A closed run's status is in its history: no worker needed.
      const closed = await readClosedRun(handle);
      state = closed.status;
      message = closed.message;
    }
    const url = runLink(settings, namespace, workflowId, description.runId);
    if (!state) {
      throw new ExitError(
        ExitCode.Failed,
        `${workflowId} (${description.type}) closed ${description.status.name} and left no release status${message ? `: ${message}` : ''}\n  ${url}`,
      );
    }
    if (options.json) {
      // The status's own schema version (of the workflow's query) is not the output's.
      const { schemaVersion: statusSchemaVersion, ...fields } = state;
      printJson('status', {
        workflowId,
        runId: description.runId,
        execution: description.status.name,
        url,
        statusSchemaVersion,
        ...fields,
      });
      return ExitCode.Ok;
    }
    console.log(
      `${workflowId} — ${state.app} @ ${describeSource(state.source)} — ${description.status.name} (${state.phase}${state.environment ? `, ${state.environment}` : ''})`,
    );
    for (const line of new ProgressPrinter().update(state).slice(1)) console.log(line);
    // A canary's verdict with every check's evidence: what decided, on which counts, at what α.
    for (const [environment, progress] of Object.entries(state.environments)) {
      if (progress.canary)
        for (const line of canaryLines(environment, progress.canary)) console.log(`  ${line}`);
    }
    if (state.failure) console.log(`  failure: ${state.failure}`);
    console.log(`  ${url}`);
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}
