/**
 * Signed approvals, the parts the CLI, the worker and the workflow share: pure data and strings,
 * safe in the workflow sandbox (signing and checking, which need node:crypto, live beside this file).
 */
import { FailureType } from '../failures.js';
import type { DecisionArgs } from '../types.js';

/** A promote or rollback decision. */
export type ApprovalAction = 'promote' | 'rollback';

/** A signature as the CLI attaches it to a decision. */
export type ApprovalSignature = NonNullable<DecisionArgs['signature']>;

/** How far a signature's time may be from the worker's clock, either way. */
export const APPROVAL_WINDOW_MS = 5 * 60_000;

/** The failure type of a refused decision, for the update's caller. */
export const APPROVAL_REFUSED = FailureType.ApprovalRefused;

/** What the worker checks: the decision as the workflow received it, for this run. */
export interface ApprovalRequest {
  workflowId: string;
  runId: string;
  action: ApprovalAction;
  by: string;
  reason?: string;
  signature?: unknown;
  /**
   * A one-off request (`rollback --env`, whose `runId` is the CLI's request id): once a run has used
   * it, the worker refuses it to any other run, so a copied signature cannot act twice.
   */
  singleUse?: boolean;
  /** The app the request concerns: single-use requests are recorded per app. */
  app?: string;
}

/** The worker's answer: `required` says whether it holds approver keys (TOLLGATE_APPROVER_KEYS). */
export type ApprovalVerdict = { ok: true; required: boolean } | { ok: false; required: true; reason: string };

/** The refusal of a decision that carries no signature where one is required. */
export function unsignedRefusal(action: ApprovalAction): string {
  return `the worker holds approver keys (TOLLGATE_APPROVER_KEYS) but this ${action} is unsigned: set TOLLGATE_APPROVER_KEY to your private key file where you run tollgate (make one with \`tollgate keys new --approver <name>\`)`;
}

/** The refusal of a UI signal where approvals must be signed (a signal cannot carry a checked signature). */
export function signalRefusal(action: ApprovalAction): string {
  return `signed approvals are required: use tollgate ${action}`;
}
