/** Sends promote or rollback to a running release as an update: the caller learns at once whether it was accepted. */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { CI_ACTOR_VARIABLES, defaultIdentity } from '../approvals/identity.js';
import { signDecision } from '../approvals/sign.js';
import type { DecisionArgs, DecisionResult } from '../types.js';
import { promoteUpdate, rollbackUpdate } from '../workflows/messages.js';
import { ExitCode, ExitError } from './exit.js';

/** Options shared by promote and rollback. */
export interface DecisionOptions {
  by?: string;
  reason?: string;
  json?: boolean;
}

/** Who is deciding: --by, else the CI actor in CI, else the OS user. */
export function decisionIdentity(
  action: 'promote' | 'rollback',
  options: DecisionOptions,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (options.by !== undefined && options.by.trim() === '') {
    throw new ExitError(
      ExitCode.BadInput,
      `${action} --by is empty: name who is deciding (one of the config's approvers), or leave --by out to use the CI actor or OS user`,
    );
  }
  const by = options.by?.trim() || defaultIdentity(env);
  if (!by) {
    throw new ExitError(
      ExitCode.BadInput,
      `${action} needs --by <name>: who is deciding (must be an approver); no CI actor (${CI_ACTOR_VARIABLES.join(', ')} with CI set) or OS user was found`,
    );
  }
  return by;
}

/**
 * Sends the decision as `by`; refused ones exit 2 with the workflow's reason. With TOLLGATE_APPROVER_KEY
 * in `env`, the decision is signed with that private key for this run, action, identity and reason.
 */
export async function sendDecision(
  client: Client,
  action: 'promote' | 'rollback',
  workflowId: string,
  by: string,
  options: DecisionOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DecisionResult> {
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
  const reason = options.reason ? { reason: options.reason } : {};
  const { workflowId: id, runId } = description;
  const signature = signDecision({ workflowId: id, runId, action, by, ...reason }, env);
  const args: DecisionArgs = { by, ...reason, ...(signature ? { signature } : {}) };
  try {
    return await handle.executeUpdate(action === 'promote' ? promoteUpdate : rollbackUpdate, {
      args: [args],
      // Deterministic per run and person: repeating the same command is idempotent. A signed one adds
      // its signature: the server keeps a refused update's outcome per id, and a re-signed retry must be heard.
      updateId: `${action}-${runId}-${by}${args.signature ? `-${args.signature.sig.slice(0, 16)}` : ''}`,
    });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      throw new ExitError(ExitCode.BadInput, `${action} refused: ${error.cause?.message ?? error.message}`);
    }
    throw error;
  }
}
