/** Rollback of an environment after its release pipeline has finished: back to the previous release. */
import { ApplicationFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import { FailureType, messageOf } from '../failures.js';
import type { ApprovalSignature } from '../approvals/protocol.js';
import type { AuditEntry, EnvironmentPlan } from '../types.js';
import { recordRollback } from './metrics.js';
import { approvalActivities, compensationActivities, environmentActivities } from './stages.js';

/** Marks runs that check the request's signature before touching the environment. */
const SIGNED_ROLLBACK_PATCH = 'signed-rollback';

/** Input of rollbackEnvironment. */
export interface RollbackInput {
  app: string;
  /** The environment to roll back (requests from 0.1 clients carry no `app` in it). */
  environment: Omit<EnvironmentPlan, 'app'> & { app?: string };
  by: string;
  reason: string;
  approvers: string[];
  /** A fresh id per request: what a signature is bound to, in place of a run id the CLI cannot know yet. */
  requestId?: string;
  /** HMAC by `tollgate rollback --env` where TOLLGATE_APPROVAL_SECRET is set; checked by the worker. */
  signature?: ApprovalSignature;
}

/** Switches `environment` back to its previous release and records who did it and why. */
export async function rollbackEnvironment(
  input: RollbackInput,
): Promise<{ from: string | null; to: string | null }> {
  if (input.approvers.length > 0 && !input.approvers.includes(input.by)) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message: `${input.by} is not an approver of ${input.app} (approvers: ${input.approvers.join(', ')})`,
      nonRetryable: true,
    });
  }
  const entry = (outcome: AuditEntry['outcome'], reason: string, releaseId?: string): AuditEntry => ({
    at: new Date().toISOString(),
    workflowId: workflowInfo().workflowId,
    app: input.app,
    action: 'rollback',
    by: input.by,
    reason,
    ...(releaseId ? { releaseId } : {}),
    outcome,
  });
  const requestedAt = Date.now();
  // Where the worker holds TOLLGATE_APPROVAL_SECRET, only a signed request rolls anything back, once.
  // Runs started before this check existed replay without it.
  const verdict = patched(SIGNED_ROLLBACK_PATCH)
    ? await approvalActivities().verifyApproval({
        workflowId: workflowInfo().workflowId,
        runId: input.requestId ?? '',
        action: 'rollback',
        by: input.by,
        reason: input.reason,
        ...(input.signature ? { signature: input.signature } : {}),
        singleUse: true,
        app: input.app,
      })
    : ({ ok: true } as const);
  if (!verdict.ok) {
    await CancellationScope.nonCancellable(() =>
      compensationActivities('audit trail').recordAudit([entry('refused', `refused: ${verdict.reason}`)]),
    );
    throw ApplicationFailure.create({
      type: FailureType.ApprovalRefused,
      message: verdict.reason,
      nonRetryable: true,
    });
  }
  try {
    // Environments are kept per app: a request from a 0.1 client names no app in its plan.
    const environment = { ...input.environment, app: input.app };
    const result = await environmentActivities(`rollback ${environment.name}`).rollbackToPrevious({
      environment,
    });
    await compensationActivities('audit trail').recordAudit([
      entry(
        'rolled-back',
        `${input.reason} (${input.environment.name}: ${result.from ?? 'none'} → ${result.to ?? 'none'})`,
        result.from ?? undefined,
      ),
    ]);
    recordRollback(input.app, 'operator', (Date.now() - requestedAt) / 1000);
    return result;
  } catch (error) {
    recordRollback(input.app, 'operator');
    await CancellationScope.nonCancellable(() =>
      compensationActivities('audit trail').recordAudit([
        entry('failed', `${input.reason}: ${messageOf(error)}`),
      ]),
    );
    throw error;
  }
}
