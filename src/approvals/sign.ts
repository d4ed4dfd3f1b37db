/** Signs an approval where `tollgate promote` / `rollback` runs: Ed25519 with the approver's private key (TOLLGATE_APPROVER_KEY). */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { APPROVER_KEY_VARIABLE, keyIdOf, readApproverPrivateKey, refuseRetiredSecret } from './keys.js';
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
export function approvalMessage(fields: SignedFields): Buffer {
  return Buffer.from(
    JSON.stringify([
      'tollgate-approval-v2',
      fields.workflowId,
      fields.runId,
      fields.action,
      fields.by,
      fields.reason ?? '',
      fields.at,
    ]),
  );
}

/** Signs a decision with `privateKey` now (or at `now`). */
export function signApproval(
  privateKey: KeyObject,
  fields: Omit<SignedFields, 'at'>,
  now: Date = new Date(),
): ApprovalSignature {
  const at = now.toISOString();
  return {
    alg: 'ed25519',
    at,
    sig: sign(null, approvalMessage({ ...fields, at }), privateKey).toString('base64'),
    keyId: keyIdOf(createPublicKey(privateKey)),
  };
}

/**
 * The CLI's signature on a decision: signed with the key TOLLGATE_APPROVER_KEY names, or undefined
 * where it is unset. Throws an ApproverKeyError for an unusable key, or where the retired
 * TOLLGATE_APPROVAL_SECRET is still set.
 */
export function signDecision(
  fields: Omit<SignedFields, 'at'>,
  env: NodeJS.ProcessEnv = process.env,
  now: Date = new Date(),
): ApprovalSignature | undefined {
  refuseRetiredSecret(env, 'cli');
  const path = env[APPROVER_KEY_VARIABLE]?.trim();
  return path ? signApproval(readApproverPrivateKey(path), fields, now) : undefined;
}
