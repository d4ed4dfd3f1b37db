/**
 * `rollback --env` under signed approvals: the rollbackEnvironment workflow has the worker check the
 * request's signature against the approvers' public keys before it touches the environment, once per
 * request, and records a refusal in the audit trail.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApproverKeyError } from '../../src/approvals/keys.js';
import { signApproval } from '../../src/approvals/sign.js';
import { FailureType } from '../../src/failures.js';
import type { AuditEntry, EnvironmentPlan } from '../../src/types.js';
import type { RollbackInput, rollbackEnvironment } from '../../src/workflows/rollback.js';
import { testApprovers } from '../support/approvers.js';
import { createTestWorker, recordHistory, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

// The worker knows alice's and bob's public keys; mallory has a key pair of her own.
const KEYS = testApprovers(['alice', 'bob'], ['mallory']);
const workerEnv = (): NodeJS.ProcessEnv => {
  const source: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_APPROVER_KEYS: KEYS.keysFile };
  delete source.TOLLGATE_APPROVAL_SECRET;
  return source;
};
const environment: EnvironmentPlan = {
  app: 'fixture',
  name: 'production',
  driver: 'local',
  port: 0,
  start: ['node', 'dist/server.js'],
  env: {},
  secrets: [],
  healthPath: '/health',
  readyPath: '/ready',
};

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.teardown();
});

/** One `rollback --env` request: where it runs and what it carries. */
interface Request {
  home: string;
  taskQueue: string;
  workflowId: string;
  input: RollbackInput;
}

function request(sign: (workflowId: string, requestId: string) => RollbackInput['signature']): Request {
  const home = join(tempDir('env-rollback'), 'home');
  const { taskQueue, workflowId } = uniqueIds('env-rollback');
  const requestId = randomUUID();
  const signature = sign(workflowId, requestId);
  const input: RollbackInput = {
    app: 'fixture',
    environment,
    by: 'alice',
    reason: 'revert',
    approvers: ['alice'],
    requestId,
    ...(signature ? { signature } : {}),
  };
  return { home, taskQueue, workflowId, input };
}

/** Runs rollbackEnvironment on a worker holding KEYS; returns the failure (if any) and the audit trail written. */
async function run({
  home,
  taskQueue,
  workflowId,
  input,
}: Request): Promise<{ error: unknown; audit: AuditEntry[] }> {
  const worker = await createTestWorker(env, taskQueue, home, {
    secretSource: workerEnv(),
  });
  const error = await worker
    .runUntil(
      env.client.workflow.execute<typeof rollbackEnvironment>('rollbackEnvironment', {
        taskQueue,
        workflowId,
        args: [input],
      }),
    )
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  const audit = readFileSync(join(home, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEntry);
  return { error, audit };
}

const rollbackWith = (sign: (workflowId: string, requestId: string) => RollbackInput['signature']) =>
  run(request(sign));

/** alice's request, signed with `signer`'s private key. */
const signedBy =
  (signer: string) =>
  (workflowId: string, requestId: string): RollbackInput['signature'] =>
    signApproval(KEYS.privateKey(signer), {
      workflowId,
      runId: requestId,
      action: 'rollback',
      by: 'alice',
      reason: 'revert',
    });

/** Past the signature check: the environment (never deployed here) is what fails, not the approval. */
function assertReachedEnvironment(error: unknown, home: string): void {
  assert.ok(error instanceof WorkflowFailedError, String(error));
  const cause = error.cause?.cause;
  assert.ok(cause instanceof ApplicationFailure, String(cause));
  assert.match(cause.message, /production has no previous release to roll back to/);
  assert.equal(cause.type, FailureType.NoPreviousRelease);
  assert.equal(cause.nonRetryable, true, 'no retry can make a previous release appear');
  assert.equal(
    existsSync(join(home, 'envs', 'fixture', 'production', 'supervisor.pid')),
    false,
    'no supervisor was started for an environment never deployed to',
  );
}

function failureOf(error: unknown): ApplicationFailure {
  assert.ok(error instanceof WorkflowFailedError, String(error));
  assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
  return error.cause;
}

describe('rollback --env with approver keys (TOLLGATE_APPROVER_KEYS) on the worker', () => {
  it('refuses an unsigned request before touching the environment, and audits the refusal', async () => {
    const { error, audit } = await rollbackWith(() => undefined);
    const failure = failureOf(error);
    assert.equal(failure.type, FailureType.ApprovalRefused);
    assert.match(
      failure.message,
      /this rollback is unsigned: set TOLLGATE_APPROVER_KEY to your private key file where you run tollgate/,
    );
    assert.deepEqual(
      audit.map((e) => [e.action, e.by, e.outcome]),
      [['rollback', 'alice', 'refused']],
    );
  });

  it("refuses alice's request signed with bob's key, or with a key the worker does not hold", async () => {
    const bobs = await rollbackWith(signedBy('bob'));
    const failure = failureOf(bobs.error);
    assert.equal(failure.type, FailureType.ApprovalRefused);
    assert.match(failure.message, /signed with bob's key \(key id [0-9a-f]{16}\), not alice's/);
    assert.deepEqual(
      bobs.audit.map((e) => [e.by, e.outcome]),
      [['alice', 'refused']],
    );
    const mallorys = failureOf((await rollbackWith(signedBy('mallory'))).error);
    assert.match(mallorys.message, /made with a key the worker does not hold/);
  });

  it('lets a properly signed request through to the environment', async () => {
    const signed = request(signedBy('alice'));
    const { error, audit } = await run(signed);
    assertReachedEnvironment(error, signed.home);
    recordHistory(env, signed.workflowId, 'rollback-env-signed');
    assert.deepEqual(
      audit.map((e) => [e.action, e.outcome]),
      [['rollback', 'failed']],
    );
  });

  it('refuses the same signed request to a second run, even under the same workflow id', async () => {
    const once = request(signedBy('alice'));
    assertReachedEnvironment((await run(once)).error, once.home);
    const { error, audit } = await run(once);
    const failure = failureOf(error);
    assert.equal(failure.type, FailureType.ApprovalRefused);
    assert.match(failure.message, /this signed rollback request was already used by run [0-9a-f-]+ at /);
    assert.deepEqual(
      audit.map((e) => [e.action, e.outcome]),
      [
        ['rollback', 'failed'],
        ['rollback', 'refused'],
      ],
    );
  });

  it('a worker whose keys file is missing does not start, naming the variable and the file', async () => {
    const missing = join(tempDir('env-rollback'), 'approver-keys.json');
    const { taskQueue } = uniqueIds('env-rollback');
    await assert.rejects(
      async () =>
        createTestWorker(env, taskQueue, tempDir('env-rollback'), {
          secretSource: { ...workerEnv(), TOLLGATE_APPROVER_KEYS: missing },
        }),
      (error: unknown) =>
        error instanceof ApproverKeyError &&
        error.message.startsWith(`TOLLGATE_APPROVER_KEYS=${missing} cannot be read (ENOENT)`),
    );
  });
});
