/**
 * One release in flight per app: deploying runs share the workflow ID `release-<app>`, so the
 * server refuses a second start while one runs (workflowIdConflictPolicy FAIL) and names the holder.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { describeSource } from '../workflows/ui.js';
import { queryStatus } from './runs.js';
import { ExitCode, ExitError } from './exit.js';

/** The lane's workflow ID for an app. */
export const laneId = (app: string): string => `release-${app}`;

/** Describes the run holding a lane, for messages. */
async function describeHolder(client: Client, workflowId: string): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const status = await queryStatus(handle).catch(() => undefined);
  const what = status
    ? `${status.app} @ ${describeSource(status.source)}, phase ${status.phase}`
    : 'starting';
  return `${workflowId} (run ${description.runId}, ${what}, started ${description.startTime.toISOString()})`;
}

/**
 * Starts the workflow in the lane. When the lane is held: fails at once naming the holder,
 * or with `queue` waits for the holder to end (whatever its outcome) and tries again.
 */
export async function startInLane<W extends Workflow>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions<W>,
  queue: boolean,
  onWait: (holder: string) => void,
): Promise<WorkflowHandleWithFirstExecutionRunId<W>> {
  for (;;) {
    try {
      return await client.workflow.start<W>(workflowType, { ...options, workflowIdConflictPolicy: 'FAIL' });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const holder = await describeHolder(client, options.workflowId);
      if (!queue) {
        throw new ExitError(
          ExitCode.LaneBusy,
          `the release lane is held by ${holder}: wait for it to finish, or run again with --queue to wait your turn`,
        );
      }
      onWait(holder);
      await client.workflow
        .getHandle(options.workflowId)
        .result()
        .catch(() => undefined); // its outcome is its own; we only wait for the lane
    }
  }
}
