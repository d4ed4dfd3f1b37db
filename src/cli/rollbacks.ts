/** Environment rollbacks (`rollback --env`) as `history` and `stats` read them: from the server's records alone. */
import {
  ApplicationFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { FailureType } from '../failures.js';
import type { RollbackResult } from '../environments/environment.js';
import type { RollbackInput } from '../workflows/rollback.js';
import { startInput } from './runs.js';

/** The visibility query of environment rollbacks. */
export const ROLLBACK_WORKFLOW_QUERY = "WorkflowType = 'rollbackEnvironment'";

/** One environment rollback. */
export interface EnvironmentRollback {
  workflowId: string;
  runId: string;
  app: string;
  environment: string;
  by: string;
  reason: string;
  /** When it was asked for and when it closed (ISO). */
  requestedAt: string;
  closedAt: string | null;
  /** `rolled-back`: traffic moved back; `unchanged`: it was rolled back before; `refused`, `failed`, `running`. */
  outcome: 'rolled-back' | 'unchanged' | 'refused' | 'failed' | 'running';
  /** The release it left and the one it restored. */
  from: string | null;
  to: string | null;
  message: string | null;
}

/** Reads one rollbackEnvironment run; undefined when its input cannot be read. */
export async function readEnvironmentRollback(
  client: Client,
  info: WorkflowExecutionInfo,
): Promise<EnvironmentRollback | undefined> {
  const input = await startInput<RollbackInput>(client, info);
  if (!input) return undefined;
  const base = {
    workflowId: info.workflowId,
    runId: info.runId,
    app: input.app,
    environment: input.environment.name,
    by: input.by,
    reason: input.reason,
    requestedAt: info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString() ?? null,
  };
  if (info.status.name === 'RUNNING') {
    return { ...base, outcome: 'running', from: null, to: null, message: null };
  }
  try {
    const result = (await client.workflow.getHandle(info.workflowId, info.runId).result()) as RollbackResult;
    return {
      ...base,
      // Runs before `changed` existed always switched.
      outcome: result.changed === false ? 'unchanged' : 'rolled-back',
      from: result.from,
      to: result.to,
      message: null,
    };
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    const message = cause?.message ?? (error instanceof Error ? error.message : String(error));
    // Not an approver, or a bad signature: refused before anything was touched.
    const refused =
      cause instanceof ApplicationFailure &&
      (cause.type === FailureType.InvalidConfig || cause.type === FailureType.ApprovalRefused);
    return { ...base, outcome: refused ? 'refused' : 'failed', from: null, to: null, message };
  }
}
