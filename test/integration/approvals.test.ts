/**
 * Approvals end to end: the real CLI's default identity, and signed approvals (TOLLGATE_APPROVAL_SECRET)
 * against a real dev server, a real worker and the sample app released through local environments.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { signApproval } from '../../src/approvals/sign.js';
import { FailureType } from '../../src/failures.js';
import type { AuditEntry, DecisionArgs } from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { queryStatus } from '../../src/cli/runs.js';
import { promoteSignal, promoteUpdate } from '../../src/workflows/messages.js';
import { runCli, type CliResult } from '../support/cli.js';
import {
  APP_SECRETS,
  buildSampleApp,
  sampleChain,
  sampleCommit,
  sampleInput,
  stopSampleEnvironments,
  waitForPhase,
  type ChainOptions,
} from '../support/delivery.js';
import { createTestWorker, recordHistory, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

const SECRET = 'integration-test-approval-secret';
const APPROVERS = ['release-manager', 'alice', 'bob'];

let env: TestWorkflowEnvironment;
const homes: string[] = [];
before(async () => {
  await buildSampleApp();
  env = await startTestServer();
});
after(async () => {
  await stopSampleEnvironments(homes);
  await env?.teardown();
});

/** process.env without anything that would pick an identity or a secret for us. */
function cleanEnv(): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of [
    'CI',
    'GITHUB_ACTOR',
    'GITLAB_USER_LOGIN',
    'BUILDKITE_BUILD_CREATOR',
    'TOLLGATE_APPROVAL_SECRET',
  ])
    delete clean[name];
  return clean;
}

/** A worker (with `secret` as TOLLGATE_APPROVAL_SECRET, if given) and a run of the sample app waiting at a manual gate. */
async function waitingRun(
  label: string,
  secret: string | undefined,
  options: ChainOptions = {},
): Promise<{
  worker: Worker;
  start: () => Promise<WorkflowHandle<ReleaseWorkflow>>;
  nextWorker: () => Promise<Worker>;
}> {
  const dir = tempDir(label);
  const home = join(dir, 'home');
  homes.push(home);
  const { taskQueue, workflowId } = uniqueIds(label);
  const nextWorker = () =>
    createTestWorker(env, taskQueue, home, {
      secretSource: {
        ...cleanEnv(),
        ...APP_SECRETS,
        ...(secret ? { TOLLGATE_APPROVAL_SECRET: secret } : {}),
      },
    });
  const worker = await nextWorker();
  const chain = await sampleChain({
    ...options,
    promotion: {
      mode: 'manual',
      approvers: APPROVERS,
      timeoutMs: 120_000,
      onTimeout: 'rollback',
      ...options.promotion,
    },
  });
  const start = async () => {
    const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [sampleInput(sampleCommit(join(dir, 'repo'), label), chain)],
    });
    await waitForPhase(handle, 'awaiting-promotion');
    return handle;
  };
  return { worker, start, nextWorker };
}

/** Waits until the audit trail has `count` entries besides the auto gate before staging. */
async function auditOf(handle: WorkflowHandle, count: number): Promise<AuditEntry[]> {
  for (let i = 0; i < 100; i++) {
    const audit = (await queryStatus(handle)).audit.filter((e) => e.action !== 'auto-promote');
    if (audit.length >= count) return audit;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`the audit trail never reached ${count} entries`);
}

/** `tollgate <args>` against the test server, as a CI job: CI=true, GITHUB_ACTOR=`actor`, plus `extra`. */
function cliAs(actor: string, extra: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  return runCli(args, {
    ...cleanEnv(),
    TEMPORAL_ADDRESS: env.address,
    CI: 'true',
    GITHUB_ACTOR: actor,
    ...extra,
  });
}

/** Sends a promote update directly through the client, as someone with server access but no CLI would. */
function promoteDirectly(handle: WorkflowHandle, args: DecisionArgs): Promise<unknown> {
  return handle.executeUpdate(promoteUpdate, { args: [args] });
}

/** `args` signed with `secret` for this run (at `at`, now by default). */
async function signedFor(
  handle: WorkflowHandle,
  args: DecisionArgs,
  secret: string,
  at = new Date(),
): Promise<DecisionArgs> {
  const { runId } = await handle.describe();
  const fields = { workflowId: handle.workflowId, runId, action: 'promote' as const, by: args.by };
  return {
    ...args,
    signature: signApproval(secret, { ...fields, ...(args.reason ? { reason: args.reason } : {}) }, at),
  };
}

function refusedWith(pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof WorkflowUpdateFailedError, String(error));
    assert.match(String(error.cause?.message), pattern);
    return true;
  };
}

describe('approvals', () => {
  it('without a secret: promote defaults to the CI actor; a non-approver is refused', async () => {
    const { worker, start } = await waitingRun('approve-plain', undefined);
    await worker.runUntil(async () => {
      const handle = await start();
      const refused = await cliAs('mallory', {}, 'promote', handle.workflowId);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /promote refused: mallory is not an approver of saas-app/);
      assert.equal((await queryStatus(handle)).phase, 'awaiting-promotion');

      const promoted = await cliAs('release-manager', {}, 'promote', handle.workflowId, '--reason', 'green');
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(promoted.stdout, /promoted .* \(by release-manager\)/);
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.status.environments.production?.gate?.decidedBy, 'release-manager');
      const promotion = result.status.audit.find((e) => e.action === 'promote');
      assert.deepEqual(
        [promotion?.by, promotion?.reason, promotion?.outcome],
        ['release-manager', 'green', 'accepted'],
      );
    });
  });

  it('with a secret on the worker: only signed updates pass; signals, unsigned, forged and stale ones are refused', async () => {
    const { worker, start } = await waitingRun('approve-signed', SECRET);
    await worker.runUntil(async () => {
      const handle = await start();

      // The UI's path: a signal cannot carry a signature, so it is refused and audited.
      await handle.signal(promoteSignal, { by: 'alice', reason: 'from the UI' });
      const [signal] = await auditOf(handle, 1);
      assert.deepEqual([signal?.action, signal?.by, signal?.outcome], ['promote', 'alice', 'refused']);
      assert.equal(signal?.reason, 'refused: signed approvals are required: use tollgate promote');

      // Server access only: an unsigned update is rejected by the validator, before it enters history.
      await assert.rejects(
        promoteDirectly(handle, { by: 'alice' }),
        refusedWith(
          /^TOLLGATE_APPROVAL_SECRET is set on the worker but this promote is unsigned: set TOLLGATE_APPROVAL_SECRET where you run tollgate$/,
        ),
      );
      // Signed, but with another secret: the worker's check refuses it, and the refusal is audited.
      await assert.rejects(
        promoteDirectly(handle, await signedFor(handle, { by: 'alice' }, 'a-guessed-secret')),
        refusedWith(/the signature on this promote by alice was made with another key/),
      );
      // alice's valid signature, replayed under bob's name.
      const alices = await signedFor(handle, { by: 'alice' }, SECRET);
      await assert.rejects(
        promoteDirectly(handle, { ...alices, by: 'bob' }),
        refusedWith(/does not match this run, action, identity and reason/),
      );
      // A signature from seven minutes ago.
      await assert.rejects(
        promoteDirectly(
          handle,
          await signedFor(handle, { by: 'alice' }, SECRET, new Date(Date.now() - 7 * 60_000)),
        ),
        refusedWith(
          /^signature for promote by alice is 7 minutes old \(limit 5 min\): run tollgate promote again$/,
        ),
      );
      const status = await queryStatus(handle);
      assert.equal(status.phase, 'awaiting-promotion', 'nothing refused changed the gate');
      const requests = status.audit.filter((e) => e.action !== 'auto-promote'); // the automatic gate before staging
      assert.deepEqual(
        requests.map((e) => [e.by, e.outcome, e.reason.replace(/:.*/s, '')]),
        [
          ['alice', 'refused', 'refused'],
          ['alice', 'refused', 'refused'],
          ['bob', 'refused', 'refused'],
          ['alice', 'refused', 'refused'],
        ],
        'the signal and the three forged updates are in the audit trail (the unsigned one never entered history)',
      );
      assert.match(requests[1]!.reason, /made with another key/);
      assert.match(requests[3]!.reason, /7 minutes old/);

      // A CLI where the secret is missing says so; the CLI with the secret signs, and is accepted.
      const unsigned = await cliAs('alice', {}, 'promote', handle.workflowId);
      assert.equal(unsigned.code, 2, unsigned.stderr);
      assert.match(
        unsigned.stderr,
        /promote refused: TOLLGATE_APPROVAL_SECRET is set on the worker but this promote is unsigned/,
      );
      const promoted = await cliAs(
        'alice',
        { TOLLGATE_APPROVAL_SECRET: SECRET },
        'promote',
        handle.workflowId,
        '--reason',
        'signed',
      );
      assert.equal(promoted.code, 0, promoted.stderr);
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.status.environments.production?.gate?.decidedBy, 'alice');
      assert.deepEqual(
        result.status.audit
          .filter((e) => e.outcome === 'accepted' && e.action === 'promote')
          .map((e) => [e.by, e.reason]),
        [['alice', 'signed']],
      );
      recordHistory(env, handle.workflowId, 'release-signed-approval');
    });
  });

  it('with a secret: two signed promotes at once, the first wins; a signed CLI rollback during verification', async () => {
    const { worker, start, nextWorker } = await waitingRun('approve-race', SECRET, {
      verification: { durationMs: 120_000 },
    });
    const handle = await worker.runUntil(start());
    // With no worker running, both updates wait at the server and reach the next worker in one
    // workflow task: both pass the validator, and the handlers' checks run concurrently.
    const outcomes = Promise.allSettled([
      promoteDirectly(handle, await signedFor(handle, { by: 'alice' }, SECRET)),
      promoteDirectly(handle, await signedFor(handle, { by: 'bob' }, SECRET)),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await (
      await nextWorker()
    ).runUntil(async () => {
      const settled = await outcomes;
      const accepted = settled.filter((o) => o.status === 'fulfilled');
      const refused = settled.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      assert.equal(accepted.length, 1, `exactly one promote wins: ${JSON.stringify(settled)}`);
      assert.equal(refused.length, 1);
      refusedWith(/the run is not waiting at a promotion gate/)(refused[0]);
      const status = await waitForPhase(handle, 'verifying');
      assert.equal(
        status.audit.filter((e) => e.action === 'promote' && e.outcome === 'accepted').length,
        1,
        'one accepted promote in the audit trail',
      );
      assert.deepEqual(
        status.audit
          .filter((e) => e.action === 'promote')
          .map((e) => e.outcome)
          .sort(),
        ['accepted', 'refused'],
        'the loser passed the validator, was refused by the handler after the signature check, and audited',
      );

      const rolledBack = await cliAs(
        'bob',
        { TOLLGATE_APPROVAL_SECRET: SECRET },
        'rollback',
        handle.workflowId,
        '--reason',
        'checkout looks off',
      );
      assert.equal(rolledBack.code, 0, rolledBack.stderr);
      const error = await handle.result().then(
        () => assert.fail('the run should be rolled back'),
        (e: unknown) => e,
      );
      assert.ok(
        error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure,
        String(error),
      );
      assert.equal(error.cause.type, FailureType.RolledBack);
      assert.match(
        error.cause.message,
        /rolled back during verification of production by bob: checkout looks off/,
      );
    });
  });
});
