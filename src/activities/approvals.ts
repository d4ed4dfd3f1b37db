/** Approval checks, run as local activities on the worker: TOLLGATE_APPROVAL_SECRET never leaves it. */
import { Context, log } from '@temporalio/activity';
import { claimRequest, ledgerDir } from '../approvals/ledger.js';
import type { ApprovalRequest, ApprovalVerdict } from '../approvals/protocol.js';
import { verifyApproval as verify } from '../approvals/verify.js';

/** What the approval activities need from the worker. */
export interface ApprovalDeps {
  /** TOLLGATE_HOME: where single-use requests are recorded once used. */
  home: string;
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
      const now = (deps.now ?? Date.now)();
      let verdict = verify(secret(), request, now);
      if (verdict.ok && verdict.required && request.singleUse) verdict = claim(request, now);
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

  /** A valid single-use request is this run's only if no other run has used it (see ledger.ts). */
  function claim(request: ApprovalRequest, now: number): ApprovalVerdict {
    const runId = Context.current().info.workflowExecution?.runId;
    if (!runId) {
      // Only a workflow's own run can use a request; fail closed if there is none.
      return {
        ok: false,
        required: true,
        reason: `a single-use ${request.action} must come from a workflow run`,
      };
    }
    const held = claimRequest(
      ledgerDir(deps.home, request.app),
      { workflowId: request.workflowId, requestId: request.runId, runId },
      now,
    );
    if (held.ok) return { ok: true, required: true };
    return {
      ok: false,
      required: true,
      reason: `this signed ${request.action} request was already used by run ${held.usedBy} at ${held.usedAt}: run tollgate ${request.action} again for a new one`,
    };
  }
}
