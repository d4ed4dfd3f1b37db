/** Looks up a run by workflow id, turning an unknown id into one line that says what to do (exit 2). */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
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
