/** Signed approvals without a server: signing, every way a check refuses, the default identity, the activities. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createApprovalActivities } from '../../src/activities/approvals.js';
import { defaultIdentity } from '../../src/approvals/identity.js';
import type { ApprovalRequest, ApprovalVerdict } from '../../src/approvals/protocol.js';
import { approvalKeyId, signApproval } from '../../src/approvals/sign.js';
import { verifyApproval } from '../../src/approvals/verify.js';
import { decisionIdentity } from '../../src/cli/decision.js';
import { tempDir } from '../support/temporal.js';

const SECRET = 'unit-test-approval-secret';
const SIGNED_AT = new Date('2025-03-01T09:00:00.000Z');
const NOW = SIGNED_AT.getTime() + 30_000;
const MIN = 60_000;

const REQUEST: ApprovalRequest = {
  workflowId: 'release-saas-app',
  runId: '0195a1b2-run-1',
  action: 'promote',
  by: 'alice',
  reason: 'staging is green',
};

/** `request` signed at SIGNED_AT with `secret`. */
function signed(secret = SECRET, request: ApprovalRequest = REQUEST): ApprovalRequest {
  const { workflowId, runId, action, by, reason } = request;
  const signature = signApproval(
    secret,
    { workflowId, runId, action, by, ...(reason ? { reason } : {}) },
    SIGNED_AT,
  );
  return { ...request, signature };
}

function refusal(verdict: ApprovalVerdict): string {
  assert.equal(verdict.ok, false, `expected a refusal, got ${JSON.stringify(verdict)}`);
  return verdict.ok ? '' : verdict.reason;
}

describe('verifyApproval', () => {
  it('accepts a fresh signature for this run, action, identity and reason', () => {
    assert.deepEqual(verifyApproval(SECRET, signed(), NOW), { ok: true, required: true });
    const signature = signed().signature as { at: string; mac: string; keyId: string };
    assert.equal(signature.at, SIGNED_AT.toISOString());
    assert.match(signature.mac, /^[0-9a-f]{64}$/);
    assert.equal(signature.keyId, approvalKeyId(SECRET));
  });

  it('accepts anything when the worker has no secret (signatures not required)', () => {
    assert.deepEqual(verifyApproval(undefined, REQUEST, NOW), { ok: true, required: false });
    assert.deepEqual(verifyApproval('', signed('other'), NOW), { ok: true, required: false });
  });

  it('refuses an unsigned decision, naming the variable to set', () => {
    assert.equal(
      refusal(verifyApproval(SECRET, REQUEST, NOW)),
      'TOLLGATE_APPROVAL_SECRET is set on the worker but this promote is unsigned: set TOLLGATE_APPROVAL_SECRET where you run tollgate',
    );
  });

  it('refuses a signature made with another secret, naming both key ids', () => {
    const reason = refusal(verifyApproval(SECRET, signed('not-the-secret'), NOW));
    assert.match(reason, /the signature on this promote by alice was made with another key/);
    assert.ok(reason.includes(approvalKeyId('not-the-secret')) && reason.includes(approvalKeyId(SECRET)));
    assert.ok(!reason.includes(SECRET), 'the secret itself is never in a reason');
  });

  it('refuses a signature made with another secret and no key id', () => {
    const request = signed('not-the-secret');
    const { keyId: _keyId, ...withoutKeyId } = request.signature as Record<string, string>;
    assert.match(
      refusal(verifyApproval(SECRET, { ...request, signature: withoutKeyId }, NOW)),
      /does not match this run, action, identity and reason .*: run tollgate promote again/,
    );
  });

  const others: [string, Partial<ApprovalRequest>][] = [
    ['another run of the same workflow', { runId: '0195a1b2-run-2' }],
    ['another workflow', { workflowId: 'release-other-app' }],
    ['another action', { action: 'rollback' }],
    ['another identity', { by: 'mallory' }],
    ['another reason', { reason: 'ship it anyway' }],
    ['no reason', { reason: undefined }],
  ];
  for (const [what, change] of others) {
    it(`refuses a signature used for ${what}`, () => {
      const reason = refusal(verifyApproval(SECRET, { ...signed(), ...change }, NOW));
      assert.match(reason, /does not match this run, action, identity and reason/);
    });
  }

  it('refuses a signature older than the window, saying how old', () => {
    assert.equal(
      refusal(verifyApproval(SECRET, signed(), SIGNED_AT.getTime() + 7 * MIN)),
      'signature for promote by alice is 7 minutes old (limit 5 min): run tollgate promote again',
    );
    assert.deepEqual(verifyApproval(SECRET, signed(), SIGNED_AT.getTime() + 5 * MIN), {
      ok: true,
      required: true,
    });
  });

  it('refuses a signature dated ahead of the worker clock', () => {
    assert.equal(
      refusal(verifyApproval(SECRET, signed(), SIGNED_AT.getTime() - 5.5 * MIN)),
      "signature for promote by alice is dated 5.5 minutes ahead of the worker's clock (limit 5 min): check the clock where you run tollgate",
    );
  });

  const malformed: [string, unknown, RegExp][] = [
    ['a string', 'abc', /malformed \(not an object\)/],
    ['a short mac', { at: SIGNED_AT.toISOString(), mac: 'abc' }, /mac must be 64 lowercase hex/],
    ['a mac that is not hex', { at: SIGNED_AT.toISOString(), mac: 'z'.repeat(64) }, /mac must be 64/],
    ['no time', { mac: 'a'.repeat(64) }, /at=undefined is not an ISO time/],
    ['a time without a zone', { at: '2025-03-01T09:00:00', mac: 'a'.repeat(64) }, /is not an ISO time/],
    ['an impossible time', { at: '2025-13-45T99:00:00Z', mac: 'a'.repeat(64) }, /is not an ISO time/],
  ];
  for (const [what, signature, says] of malformed) {
    it(`refuses a malformed signature: ${what}`, () => {
      const reason = refusal(verifyApproval(SECRET, { ...REQUEST, signature }, NOW));
      assert.match(reason, /^the signature on this promote by alice is malformed/);
      assert.match(reason, says);
    });
  }

  it('refuses a tampered mac', () => {
    const request = signed();
    const signature = request.signature as { at: string; mac: string };
    const flipped = (signature.mac[0] === 'a' ? 'b' : 'a') + signature.mac.slice(1);
    assert.match(
      refusal(verifyApproval(SECRET, { ...request, signature: { ...signature, mac: flipped } }, NOW)),
      /does not match/,
    );
  });
});

describe('the default identity', () => {
  const os = () => 'os-user';
  it('is the CI actor in CI, in the documented order', () => {
    assert.equal(defaultIdentity({ CI: 'true', GITHUB_ACTOR: 'octocat' }, os), 'octocat');
    assert.equal(defaultIdentity({ CI: 'true', GITLAB_USER_LOGIN: 'gitlab-user' }, os), 'gitlab-user');
    assert.equal(defaultIdentity({ CI: '1', BUILDKITE_BUILD_CREATOR: 'Kite Builder' }, os), 'Kite Builder');
    assert.equal(
      defaultIdentity({ CI: 'true', GITHUB_ACTOR: 'octocat', GITLAB_USER_LOGIN: 'gitlab-user' }, os),
      'octocat',
    );
  });
  it('is the OS user outside CI, or in CI without an actor', () => {
    assert.equal(defaultIdentity({ GITHUB_ACTOR: 'octocat' }, os), 'os-user');
    assert.equal(defaultIdentity({ CI: 'false', GITHUB_ACTOR: 'octocat' }, os), 'os-user');
    assert.equal(defaultIdentity({ CI: 'true' }, os), 'os-user');
  });
  it('is unknown when the OS has no user name for this process', () => {
    const none = () => {
      throw new Error('ENOENT: no passwd entry');
    };
    assert.equal(defaultIdentity({}, none), undefined);
  });
  it('is overridden by --by', () => {
    assert.equal(
      decisionIdentity('promote', { by: ' alice ' }, { CI: 'true', GITHUB_ACTOR: 'bot' }),
      'alice',
    );
    assert.equal(decisionIdentity('promote', {}, { CI: 'true', GITHUB_ACTOR: 'bot' }), 'bot');
  });
});

describe('the approval activities', () => {
  const run = <R>(fn: () => Promise<R>): Promise<R> => new MockActivityEnvironment().run(fn);

  it('say whether signatures are required: only where the worker holds the secret', async () => {
    const without = createApprovalActivities({ home: tempDir('approvals'), secretSource: {} });
    const withSecret = createApprovalActivities({
      home: tempDir('approvals'),
      secretSource: { TOLLGATE_APPROVAL_SECRET: SECRET },
    });
    assert.deepEqual(await run(() => without.approvalsRequired()), { required: false });
    assert.deepEqual(await run(() => withSecret.approvalsRequired()), { required: true });
  });

  it("check with the worker's secret and clock", async () => {
    const activities = createApprovalActivities({
      home: tempDir('approvals'),
      secretSource: { TOLLGATE_APPROVAL_SECRET: SECRET },
      now: () => NOW,
    });
    assert.deepEqual(await run(() => activities.verifyApproval(signed())), { ok: true, required: true });
    const late = createApprovalActivities({
      home: tempDir('approvals'),
      secretSource: { TOLLGATE_APPROVAL_SECRET: SECRET },
      now: () => NOW + 10 * MIN,
    });
    assert.match(refusal(await run(() => late.verifyApproval(signed()))), /minutes old \(limit 5 min\)/);
  });
});

describe('a single-use request (rollback --env)', () => {
  const ROLLBACK: ApprovalRequest = {
    ...REQUEST,
    action: 'rollback',
    runId: 'request-0195',
    singleUse: true,
  };
  const inRun = <R>(runId: string, fn: () => Promise<R>): Promise<R> =>
    new MockActivityEnvironment({ workflowExecution: { workflowId: REQUEST.workflowId, runId } }).run(fn);

  it('is let through for the run that used it first, and refused to any other run', async () => {
    const activities = createApprovalActivities({
      home: tempDir('approvals'),
      secretSource: { TOLLGATE_APPROVAL_SECRET: SECRET },
      now: () => NOW,
    });
    const request = signed(SECRET, ROLLBACK);
    const first = `run-${randomUUID()}`;
    assert.deepEqual(await inRun(first, () => activities.verifyApproval(request)), {
      ok: true,
      required: true,
    });
    // The same run again: a retried local activity or a replayed workflow task.
    assert.deepEqual(await inRun(first, () => activities.verifyApproval(request)), {
      ok: true,
      required: true,
    });
    assert.match(
      refusal(await inRun('run-copy', () => activities.verifyApproval(request))),
      new RegExp(
        `this signed rollback request was already used by run ${first} at .*: run tollgate rollback again`,
      ),
    );
  });

  it('is not recorded when its signature is refused, nor when no secret is set', async () => {
    const home = tempDir('approvals');
    const checked = createApprovalActivities({
      home,
      secretSource: { TOLLGATE_APPROVAL_SECRET: SECRET },
      now: () => NOW,
    });
    refusal(await inRun('run-forged', () => checked.verifyApproval(signed('another-secret', ROLLBACK))));
    const open = createApprovalActivities({ home, secretSource: {}, now: () => NOW });
    assert.deepEqual(await inRun('run-open', () => open.verifyApproval(ROLLBACK)), {
      ok: true,
      required: false,
    });
    assert.deepEqual(
      await inRun('run-signed', () => checked.verifyApproval(signed(SECRET, ROLLBACK))),
      { ok: true, required: true },
      'neither the forged nor the unsigned attempt used the request up',
    );
  });
});
