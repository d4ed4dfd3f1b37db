/** Rollback of an environment after its release pipeline has finished: back to the previous release. */
import { ApplicationFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import { FailureType, messageOf } from '../failures.js';
import type { ApprovalSignature } from '../approvals/protocol.js';
import type { AuditEntry, EnvironmentPlan, RollbackResult } from '../types.js';
import { recordRollback } from './metrics.js';
import { approvalActivities, compensationActivities, environmentActivities } from './stages.js';

/** Marks runs that check the request's signature before touching the environment. */
const SIGNED_ROLLBACK_PATCH = 'signed-rollback';
/** Marks runs that record a non-approver's refused request in the audit trail. */
const AUDITED_REFUSAL_PATCH = 'audited-rollback-refusal';

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
  /** The approver's Ed25519 signature by `tollgate rollback --env` where TOLLGATE_APPROVER_KEY is set; checked by the worker. */
  signature?: ApprovalSignature;
}

/** Switches `environment` back to its previous release and records who did it and why. */
export async function rollbackEnvironment(input: RollbackInput): Promise<RollbackResult> {
  const entry = (outcome: AuditEntry['outcome'], reason: string, releaseId?: string): AuditEntry => ({
    at: new Date().toISOString(),
    workflowId: workflowInfo().workflowId,
    app: input.app,
    action: 'rollback',
    by: input.by,
    reason,
    environment: input.environment.name,
    ...(releaseId ? { releaseId } : {}),
    outcome,
  });
  if (input.approvers.length > 0 && !input.approvers.includes(input.by)) {
    const message = `${input.by} is not an approver of ${input.app} (approvers: ${input.approvers.join(', ')})`;
    // A refused request is on record too (runs from before this was audited replay without it).
    if (patched(AUDITED_REFUSAL_PATCH)) {
      await compensationActivities('audit trail').recordAudit([entry('refused', `refused: ${message}`)]);
    }
    throw ApplicationFailure.create({ type: FailureType.InvalidConfig, message, nonRetryable: true });
  }
  const requestedAt = Date.now();
  // Where the worker holds approver keys (TOLLGATE_APPROVER_KEYS), only a request signed by `by` rolls anything back, once.
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
      ...(input.requestId ? { requestId: input.requestId } : {}),
    });
    if (result.changed === false) {
      // Rolled back before by another request: on record, but no second rollback is counted.
      await compensationActivities('audit trail').recordAudit([
        entry(
          'unchanged',
          `${input.reason} (${input.environment.name}: nothing changed; already rolled back from ${result.from ?? 'none'} to ${result.to ?? 'none'}${result.at ? ` at ${result.at}` : ''})`,
          result.to ?? undefined,
        ),
      ]);
      return result;
    }
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
