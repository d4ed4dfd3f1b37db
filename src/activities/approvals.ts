/** Approval checks, run as local activities on the worker, against the approvers' public keys (TOLLGATE_APPROVER_KEYS). */
import { Context, log } from '@temporalio/activity';
import {
  ApproverKeyError,
  approverKeysFile,
  loadApproverKeys,
  refuseRetiredSecret,
} from '../approvals/keys.js';
import { claimRequest, ledgerDir } from '../approvals/ledger.js';
import type { ApprovalRequest, ApprovalVerdict } from '../approvals/protocol.js';
import { verifyApproval as verify } from '../approvals/verify.js';

/** What the approval activities need from the worker. */
export interface ApprovalDeps {
  /** TOLLGATE_HOME: where single-use requests are recorded once used. */
  home: string;
  /** The worker's environment: TOLLGATE_APPROVER_KEYS, when approvals must be signed. */
  secretSource: NodeJS.ProcessEnv;
  /** The worker's clock (tests pass their own). */
  now?: () => number;
}

/**
 * Builds the approval activities. Throws an ApproverKeyError (the worker does not start) where the
 * retired TOLLGATE_APPROVAL_SECRET is set, or TOLLGATE_APPROVER_KEYS names an unusable file.
 */
export function createApprovalActivities(deps: ApprovalDeps) {
  refuseRetiredSecret(deps.secretSource, 'worker');
  const file = approverKeysFile(deps.secretSource);
  if (file) loadApproverKeys(file);
  return {
    /** Whether this worker requires signed approvals (TOLLGATE_APPROVER_KEYS is set, usable or not: fail closed). */
    approvalsRequired(): Promise<{ required: boolean }> {
      return Promise.resolve({ required: file !== undefined });
    },

    /** Checks a decision's signature against the keys file as it is now, and its time within the window of this clock. */
    verifyApproval(request: ApprovalRequest): Promise<ApprovalVerdict> {
      const now = (deps.now ?? Date.now)();
      let verdict = check(request, now);
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

  /** The verdict under the keys file read now: keys added or removed count without a restart. */
  function check(request: ApprovalRequest, now: number): ApprovalVerdict {
    if (!file) return verify(undefined, request, now);
    try {
      return verify(loadApproverKeys(file), request, now);
    } catch (error) {
      if (!(error instanceof ApproverKeyError)) throw error;
      // The file broke after the worker started: refuse rather than wave decisions through.
      return { ok: false, required: true, reason: `the worker cannot check signatures: ${error.message}` };
    }
  }

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
