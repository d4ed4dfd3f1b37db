/** Checks a signed approval on the worker, which alone holds TOLLGATE_APPROVAL_SECRET. */
import { timingSafeEqual } from 'node:crypto';
import {
  APPROVAL_WINDOW_MS,
  unsignedRefusal,
  type ApprovalRequest,
  type ApprovalVerdict,
} from './protocol.js';
import { approvalKeyId, approvalMac } from './sign.js';

const MAC = /^[0-9a-f]{64}$/;
// Full ISO 8601 with a zone, as Date#toISOString writes it (a zoneless time would be read as local).
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Whether `request` may be applied: always when no secret is set (`required: false`), else only with a valid, fresh signature. */
export function verifyApproval(
  secret: string | undefined,
  request: ApprovalRequest,
  now: number,
  windowMs = APPROVAL_WINDOW_MS,
): ApprovalVerdict {
  if (!secret) return { ok: true, required: false };
  const refuse = (reason: string): ApprovalVerdict => ({ ok: false, required: true, reason });
  const { action, by, signature } = request;
  if (signature === undefined || signature === null) return refuse(unsignedRefusal(action));
  const what = `the signature on this ${action} by ${by}`;
  const again = `run tollgate ${action} again`;
  if (typeof signature !== 'object') return refuse(`${what} is malformed (not an object): ${again}`);
  const { at, mac, keyId } = signature as Record<string, unknown>;
  if (typeof mac !== 'string' || !MAC.test(mac)) {
    return refuse(`${what} is malformed (mac must be 64 lowercase hex characters): ${again}`);
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
  const { workflowId, runId, reason } = request;
  const signed = { workflowId, runId, action, by, ...(reason ? { reason } : {}), at };
  const expected = Buffer.from(approvalMac(secret, signed), 'hex');
  if (timingSafeEqual(expected, Buffer.from(mac, 'hex'))) return { ok: true, required: true };
  const ours = approvalKeyId(secret);
  if (typeof keyId === 'string' && keyId !== ours) {
    return refuse(
      `${what} was made with another key (key id ${keyId}; the worker's is ${ours}): set the same TOLLGATE_APPROVAL_SECRET where you run tollgate as on the worker`,
    );
  }
  return refuse(
    `${what} does not match this run, action, identity and reason (it was made for another request, or with another key): ${again}`,
  );
}

/** Minutes with at most one decimal: 7, 5.5. */
function minutes(ms: number): number {
  return Math.round(ms / 6000) / 10;
}
