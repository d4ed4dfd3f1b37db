/** Looks up runs and reads their status (of either schema) for the CLI's read commands. */
import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { ReleaseStatus } from '../types.js';
import { toSchema2 } from '../workflows/legacy/status.js';
import { statusQuery } from '../workflows/messages.js';
import { ExitCode, ExitError } from './exit.js';

/** The run's description; exit 2 with a hint when no run has this id. */
export async function describeRun(client: Client, workflowId: string): Promise<WorkflowExecutionDescription> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new ExitError(
        ExitCode.BadInput,
        `no run ${workflowId}: check the id (deploys run as release-<app>); \`tollgate history --json\` lists recent runs with their workflowId`,
      );
    }
    throw error;
  }
}

/** The run's live status in the schema 2 shape (a 0.1 run in flight answers with schema 1). */
export async function queryStatus(handle: WorkflowHandle): Promise<ReleaseStatus> {
  return toSchema2(await handle.query(statusQuery));
}

/** A status found in a run's result or failure details, in the schema 2 shape. */
export function statusFrom(value: unknown): ReleaseStatus | undefined {
  return value && typeof value === 'object' && 'app' in value ? toSchema2(value as ReleaseStatus) : undefined;
}
