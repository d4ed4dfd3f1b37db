/** Checks a signed approval on the worker, against the approvers' public keys (TOLLGATE_APPROVER_KEYS). */
import { verify } from 'node:crypto';
import type { ApproverKeys } from './keys.js';
import {
  APPROVAL_WINDOW_MS,
  unsignedRefusal,
  type ApprovalRequest,
  type ApprovalVerdict,
} from './protocol.js';
import { approvalMessage } from './sign.js';

// An Ed25519 signature is 64 bytes: 86 base64 characters and the padding.
const SIG = /^[A-Za-z0-9+/]{86}==$/;
const KEY_ID = /^[0-9a-f]{16}$/;
// Full ISO 8601 with a zone, as Date#toISOString writes it (a zoneless time would be read as local).
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/**
 * Whether `request` may be applied: always when the worker holds no keys (`required: false`), else
 * only with a fresh signature, for this request, made with a key of the approver named in `by`.
 */
export function verifyApproval(
  keys: ApproverKeys | undefined,
  request: ApprovalRequest,
  now: number,
  windowMs = APPROVAL_WINDOW_MS,
): ApprovalVerdict {
  if (!keys) return { ok: true, required: false };
  const refuse = (reason: string): ApprovalVerdict => ({ ok: false, required: true, reason });
  const { action, by, signature } = request;
  if (signature === undefined || signature === null) return refuse(unsignedRefusal(action));
  const what = `the signature on this ${action} by ${by}`;
  const again = `run tollgate ${action} again`;
  if (typeof signature !== 'object') return refuse(`${what} is malformed (not an object): ${again}`);
  const { alg, at, sig, keyId, mac } = signature as Record<string, unknown>;
  if (alg !== 'ed25519') {
    return refuse(
      mac !== undefined
        ? `${what} was made with the retired shared secret (TOLLGATE_APPROVAL_SECRET): set TOLLGATE_APPROVER_KEY to ${by}'s private key where you run tollgate, and ${again}`
        : `${what} is malformed (alg must be "ed25519"): ${again}`,
    );
  }
  if (typeof sig !== 'string' || !SIG.test(sig)) {
    return refuse(`${what} is malformed (sig must be 64 bytes of base64): ${again}`);
  }
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    return refuse(`${what} is malformed (keyId must be 16 lowercase hex digits): ${again}`);
  }
  if (typeof at !== 'string' || !ISO_TIME.test(at) || Number.isNaN(Date.parse(at))) {
    return refuse(
      `${what} is malformed (at=${JSON.stringify(at)} is not an ISO time such as 2025-01-31T09:00:00.000Z): ${again}`,
    );
  }
  const age = now - Date.parse(at);
  const limit = `limit ${minutes(windowMs)} min`;
  if (age > windowMs) {
    return refuse(`signature for ${action} by ${by} is ${minutes(age)} minutes old (${limit}): ${again}`);
  }
  if (-age > windowMs) {
    return refuse(
      `signature for ${action} by ${by} is dated ${minutes(-age)} minutes ahead of the worker's clock (${limit}): check the clock where you run tollgate`,
    );
  }
  const theirs = keys.keys.filter((k) => k.approver === by);
  if (theirs.length === 0) {
    return refuse(
      `no public key for ${by} in ${keys.file}: add the entry \`tollgate keys new --approver ${by}\` printed for them (or \`tollgate keys show <their key file>\`) and ${again}`,
    );
  }
  const { workflowId, runId, reason } = request;
  const message = approvalMessage({ workflowId, runId, action, by, ...(reason ? { reason } : {}), at });
  const bytes = Buffer.from(sig, 'base64');
  const signer = keys.keys.find((k) => verify(null, message, k.key, bytes));
  if (signer?.approver === by) return { ok: true, required: true };
  if (signer) {
    return refuse(
      `${what} was signed with ${signer.approver}'s key (key id ${signer.keyId}), not ${by}'s: a decision must be signed with the key of the approver named by --by`,
    );
  }
  const claimed = keys.keys.find((k) => k.keyId === keyId);
  if (!claimed) {
    return refuse(
      `${what} was made with a key the worker does not hold (key id ${keyId}; ${by}'s: ${theirs.map((k) => k.keyId).join(', ')}): set TOLLGATE_APPROVER_KEY to ${by}'s private key where you run tollgate`,
    );
  }
  return refuse(
    `${what} does not match this run, action, identity and reason (key id ${keyId} is ${claimed.approver}'s; the signature was made for another request, or altered): ${again}`,
  );
}

/** Minutes with at most one decimal: 7, 5.5. */
function minutes(ms: number): number {
  return Math.round(ms / 6000) / 10;
}
