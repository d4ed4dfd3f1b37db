/**
 * `tollgate lane unlock`: clears the rollback brake of an app's release lane by recording who
 * cleared it and why on the audit trail, which is what the brake reads (the laneBrake activity).
 * Only an approver of the app's last environment may, where it has approvers.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../failures.js';
import type { AuditEntry } from '../types.js';
import { compensationActivities } from './stages.js';

/** Input of laneUnlock. */
export interface LaneUnlockInput {
  app: string;
  by: string;
  reason: string;
  /** The approvers of the app's last environment; empty: anyone may. */
  approvers: string[];
}

/** Records the unlock (or its refusal) and returns the entry. */
export async function laneUnlock(input: LaneUnlockInput): Promise<AuditEntry> {
  const refused =
    input.approvers.length > 0 && !input.approvers.includes(input.by)
      ? `${input.by} is not an approver of ${input.app} (approvers: ${input.approvers.join(', ')})`
      : !input.reason.trim()
        ? 'a lane unlock needs a reason: it goes into the audit trail'
        : null;
  const entry: AuditEntry = {
    at: new Date().toISOString(),
    workflowId: workflowInfo().workflowId,
    app: input.app,
    action: 'lane-unlock',
    by: input.by,
    reason: refused ? `refused: ${refused}` : input.reason,
    outcome: refused ? 'refused' : 'accepted',
  };
  await compensationActivities('audit trail').recordAudit([entry]);
  if (refused)
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message: refused,
      nonRetryable: true,
    });
  return entry;
}
