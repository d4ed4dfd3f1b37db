/** Signs an approval where `tollgate promote` / `rollback` runs: HMAC-SHA256 with TOLLGATE_APPROVAL_SECRET. */
import { createHmac } from 'node:crypto';
import type { ApprovalAction, ApprovalSignature } from './protocol.js';

/** What a signature covers: the run, the decision, who made it, why, and when. */
export interface SignedFields {
  workflowId: string;
  runId: string;
  action: ApprovalAction;
  by: string;
  reason?: string;
  /** ISO time of signing. */
  at: string;
}

/** The canonical message: a JSON array, so no field's content can run into the next. */
export function approvalMessage(fields: SignedFields): string {
  return JSON.stringify([
    'tollgate-approval-v1',
    fields.workflowId,
    fields.runId,
    fields.action,
    fields.by,
    fields.reason ?? '',
    fields.at,
  ]);
}

/** The MAC of `fields` under `secret`, as 64 hex characters. */
export function approvalMac(secret: string, fields: SignedFields): string {
  return createHmac('sha256', secret).update(approvalMessage(fields)).digest('hex');
}

/** A short fingerprint of the secret, so a mismatch can say "another key" without showing either. */
export function approvalKeyId(secret: string): string {
  return createHmac('sha256', secret).update('tollgate-approval-key-id').digest('hex').slice(0, 8);
}

/** Signs a decision now (or at `now`). */
export function signApproval(
  secret: string,
  fields: Omit<SignedFields, 'at'>,
  now: Date = new Date(),
): ApprovalSignature {
  const at = now.toISOString();
  return { at, mac: approvalMac(secret, { ...fields, at }), keyId: approvalKeyId(secret) };
}
