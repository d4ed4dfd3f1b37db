/**
 * `rollback --env` under signed approvals: the rollbackEnvironment workflow has the worker check the
 * request's signature before it touches the environment, and records a refusal in the audit trail.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { signApproval } from '../../src/approvals/sign.js';
import { FailureType } from '../../src/failures.js';
import type { AuditEntry, EnvironmentPlan } from '../../src/types.js';
import type { RollbackInput, rollbackEnvironment } from '../../src/workflows/rollback.js';
import { createTestWorker, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

const SECRET = `approval-secret-${randomUUID()}`;
const environment: EnvironmentPlan = {
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

/** Runs rollbackEnvironment on a worker holding SECRET; returns the failure (if any) and the audit trail written. */
async function rollbackWith(
  sign: (workflowId: string, requestId: string) => RollbackInput['signature'],
): Promise<{ error: unknown; audit: AuditEntry[] }> {
  const dir = tempDir('env-rollback');
  const home = join(dir, 'home');
  const { taskQueue, workflowId } = uniqueIds('env-rollback');
  const worker = await createTestWorker(env, taskQueue, home, {
    secretSource: { ...process.env, TOLLGATE_APPROVAL_SECRET: SECRET },
  });
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

function failureOf(error: unknown): ApplicationFailure {
  assert.ok(error instanceof WorkflowFailedError, String(error));
  assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
  return error.cause;
}

describe('rollback --env with TOLLGATE_APPROVAL_SECRET on the worker', () => {
  it('refuses an unsigned request before touching the environment, and audits the refusal', async () => {
    const { error, audit } = await rollbackWith(() => undefined);
    const failure = failureOf(error);
    assert.equal(failure.type, FailureType.ApprovalRefused);
    assert.match(
      failure.message,
      /this rollback is unsigned: set TOLLGATE_APPROVAL_SECRET where you run tollgate/,
    );
    assert.deepEqual(
      audit.map((e) => [e.action, e.by, e.outcome]),
      [['rollback', 'alice', 'refused']],
    );
  });

  it('refuses a request signed with another secret', async () => {
    const { error, audit } = await rollbackWith((workflowId, requestId) =>
      signApproval('another-secret', {
        workflowId,
        runId: requestId,
        action: 'rollback',
        by: 'alice',
        reason: 'revert',
      }),
    );
    assert.equal(failureOf(error).type, FailureType.ApprovalRefused);
    assert.equal(audit[0]?.outcome, 'refused');
  });

  it('lets a properly signed request through to the environment', async () => {
    const { error, audit } = await rollbackWith((workflowId, requestId) =>
      signApproval(SECRET, {
        workflowId,
        runId: requestId,
        action: 'rollback',
        by: 'alice',
        reason: 'revert',
      }),
    );
    // Past the signature check: the environment (never deployed here) is what fails, not the approval.
    assert.ok(error instanceof WorkflowFailedError, String(error));
    assert.match(
      String((error.cause?.cause as Error | undefined)?.message),
      /production has no previous release to roll back to/,
    );
    assert.deepEqual(
      audit.map((e) => [e.action, e.outcome]),
      [['rollback', 'failed']],
    );
  });
});
