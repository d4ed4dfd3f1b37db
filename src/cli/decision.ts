/** Sends promote or rollback to a running release as an update: the caller learns at once whether it was accepted. */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { DecisionResult } from '../types.js';
import { promoteUpdate, rollbackUpdate } from '../workflows/messages.js';
import { ExitCode, ExitError } from './exit.js';

/** Options shared by promote and rollback. */
export interface DecisionOptions {
  by?: string;
  reason?: string;
  json?: boolean;
}

/** Sends the decision; refused ones exit 2 with the workflow's reason. */
export async function sendDecision(
  client: Client,
  action: 'promote' | 'rollback',
  workflowId: string,
  options: DecisionOptions,
): Promise<DecisionResult> {
  if (!options.by?.trim())
    throw new ExitError(
      ExitCode.BadInput,
      `${action} needs --by <name>: who is deciding (must be an approver)`,
    );
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) {
      throw new ExitError(
        ExitCode.BadInput,
        `no run ${workflowId}: see \`tollgate history\` for recent runs`,
      );
    }
    throw error;
  });
  if (description.status.name !== 'RUNNING') {
    throw new ExitError(
      ExitCode.BadInput,
      `run ${workflowId} has finished (${description.status.name}); to undo a finished release use \`tollgate rollback --env <env>\``,
    );
  }
  try {
    return await handle.executeUpdate(action === 'promote' ? promoteUpdate : rollbackUpdate, {
      args: [{ by: options.by.trim(), ...(options.reason ? { reason: options.reason } : {}) }],
      // Deterministic per run and person: repeating the same command is idempotent.
      updateId: `${action}-${description.runId}-${options.by.trim()}`,
    });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      throw new ExitError(ExitCode.BadInput, `${action} refused: ${error.cause?.message ?? error.message}`);
    }
    throw error;
  }
}
