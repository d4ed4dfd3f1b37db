/** Approval checks, run as local activities on the worker: TOLLGATE_APPROVAL_SECRET never leaves it. */
import { log } from '@temporalio/activity';
import type { ApprovalRequest, ApprovalVerdict } from '../approvals/protocol.js';
import { verifyApproval as verify } from '../approvals/verify.js';

/** What the approval activities need from the worker. */
export interface ApprovalDeps {
  /** The worker's environment: TOLLGATE_APPROVAL_SECRET, when approvals must be signed. */
  secretSource: NodeJS.ProcessEnv;
  /** The worker's clock (tests pass their own). */
  now?: () => number;
}

/** Builds the approval activities. */
export function createApprovalActivities(deps: ApprovalDeps) {
  const secret = (): string | undefined => deps.secretSource.TOLLGATE_APPROVAL_SECRET || undefined;
  return {
    /** Whether this worker requires signed approvals (it holds TOLLGATE_APPROVAL_SECRET). */
    approvalsRequired(): Promise<{ required: boolean }> {
      return Promise.resolve({ required: secret() !== undefined });
    },

    /** Checks a decision's signature: the MAC in constant time, its time within the window of this clock. */
    verifyApproval(request: ApprovalRequest): Promise<ApprovalVerdict> {
      const verdict = verify(secret(), request, (deps.now ?? Date.now)());
      if (!verdict.ok) {
        log.warn('refused an approval', {
          workflowId: request.workflowId,
          action: request.action,
          by: request.by,
          reason: verdict.reason,
        });
      }
      return Promise.resolve(verdict);
    },
  };
}
