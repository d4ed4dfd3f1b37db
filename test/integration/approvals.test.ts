/**
 * Approvals end to end: the real CLI's default identity, and approvals signed with approvers' key pairs
 * (TOLLGATE_APPROVER_KEY where the CLI runs, TOLLGATE_APPROVER_KEYS on the worker) against a real dev
 * server, a real worker and the sample app released through local environments.
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
import { testApprovers } from '../support/approvers.js';
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
import {
  createTestWorker,
  recordHistory,
  startTestServer,
  tempDir,
  uniqueIds,
  temporalEnv,
} from '../support/temporal.js';

const APPROVERS = ['release-manager', 'alice', 'bob'];
// The worker's keys file lists alice and bob; release-manager (an approver) and mallory have key
// pairs the worker does not know.
const KEYS = testApprovers(['alice', 'bob'], ['release-manager', 'mallory']);

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
    'TOLLGATE_APPROVER_KEY',
    'TOLLGATE_APPROVER_KEYS',
  ])
    delete clean[name];
  return clean;
}

/** A worker (with `keysFile` as TOLLGATE_APPROVER_KEYS, if given) and a run of the sample app waiting at a manual gate. */
async function waitingRun(
  label: string,
  keysFile: string | undefined,
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
        ...(keysFile ? { TOLLGATE_APPROVER_KEYS: keysFile } : {}),
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
    ...temporalEnv(env),
    CI: 'true',
    GITHUB_ACTOR: actor,
    ...extra,
  });
}

/** Sends a promote update directly through the client, as someone with server access but no CLI would. */
function promoteDirectly(handle: WorkflowHandle, args: DecisionArgs): Promise<unknown> {
  return handle.executeUpdate(promoteUpdate, { args: [args] });
}

/** `args` signed with `signer`'s private key for this run (at `at`, now by default). */
async function signedFor(
  handle: WorkflowHandle,
  args: DecisionArgs,
  signer: string,
  at = new Date(),
): Promise<DecisionArgs> {
  const { runId } = await handle.describe();
  const fields = { workflowId: handle.workflowId, runId, action: 'promote' as const, by: args.by };
  return {
    ...args,
    signature: signApproval(
      KEYS.privateKey(signer),
      { ...fields, ...(args.reason ? { reason: args.reason } : {}) },
      at,
    ),
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
  it('without approver keys: promote defaults to the CI actor; a non-approver is refused', async () => {
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
      const [refusal, promotion] = result.status.audit.filter((e) => e.action === 'promote');
      assert.deepEqual(
        [refusal?.by, refusal?.outcome, refusal?.environment],
        ['mallory', 'refused', 'production'],
        "the refused promote is on the run's audit trail",
      );
      assert.match(refusal?.reason ?? '', /^refused: mallory is not an approver of saas-app in production/);
      assert.deepEqual(
        [promotion?.by, promotion?.reason, promotion?.outcome],
        ['release-manager', 'green', 'accepted'],
      );
    });
  });

  it("with approver keys on the worker: only updates signed with the approver's own key pass; signals, unsigned, other keys' and stale ones are refused", async () => {
    const { worker, start } = await waitingRun('approve-signed', KEYS.keysFile);
    await worker.runUntil(async () => {
      const handle = await start();

      // The UI's path: a signal cannot carry a signature, so it is refused and audited.
      await handle.signal(promoteSignal, { by: 'alice', reason: 'from the UI' });
      const [signal] = await auditOf(handle, 1);
      assert.deepEqual([signal?.action, signal?.by, signal?.outcome], ['promote', 'alice', 'refused']);
      assert.equal(signal?.reason, 'refused: signed approvals are required: use tollgate promote');

      // Server access only: an unsigned update is refused, and the refusal is audited.
      await assert.rejects(
        promoteDirectly(handle, { by: 'alice' }),
        refusedWith(
          /^the worker holds approver keys \(TOLLGATE_APPROVER_KEYS\) but this promote is unsigned: set TOLLGATE_APPROVER_KEY to your private key file where you run tollgate \(make one with `tollgate keys new --approver <name>`\)$/,
        ),
      );
      // bob, through the real CLI, signs a promote that claims to be alice's: his key is not hers.
      const asAlice = await cliAs(
        'alice',
        { TOLLGATE_APPROVER_KEY: KEYS.keyFile('bob') },
        'promote',
        handle.workflowId,
      );
      assert.equal(asAlice.code, 2, asAlice.stderr);
      assert.match(
        asAlice.stderr,
        /promote refused: the signature on this promote by alice was signed with bob's key \(key id [0-9a-f]{16}\), not alice's/,
      );
      // A key the worker does not hold (mallory's own), signing as alice.
      await assert.rejects(
        promoteDirectly(handle, await signedFor(handle, { by: 'alice' }, 'mallory')),
        refusedWith(/the signature on this promote by alice was made with a key the worker does not hold/),
      );
      // alice's valid signature, replayed under bob's name.
      const alices = await signedFor(handle, { by: 'alice' }, 'alice');
      await assert.rejects(
        promoteDirectly(handle, { ...alices, by: 'bob' }),
        refusedWith(/does not match this run, action, identity and reason/),
      );
      // A signature from seven minutes ago.
      await assert.rejects(
        promoteDirectly(
          handle,
          await signedFor(handle, { by: 'alice' }, 'alice', new Date(Date.now() - 7 * 60_000)),
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
          ['alice', 'refused', 'refused'],
          ['alice', 'refused', 'refused'],
          ['bob', 'refused', 'refused'],
          ['alice', 'refused', 'refused'],
        ],
        'the signal, the unsigned update and the four wrongly signed ones are all in the audit trail',
      );
      assert.match(requests[1]!.reason, /this promote is unsigned/);
      assert.match(requests[2]!.reason, /signed with bob's key \(key id [0-9a-f]{16}\), not alice's/);
      assert.match(requests[3]!.reason, /a key the worker does not hold/);
      assert.match(requests[4]!.reason, /does not match this run, action, identity and reason/);
      assert.match(requests[5]!.reason, /7 minutes old/);

      // An approver whose public key the worker lacks, signing with their own key: the refusal names the file.
      const unknown = await cliAs(
        'release-manager',
        { TOLLGATE_APPROVER_KEY: KEYS.keyFile('release-manager') },
        'promote',
        handle.workflowId,
      );
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.ok(
        unknown.stderr.includes(`promote refused: no public key for release-manager in ${KEYS.keysFile}`),
        unknown.stderr,
      );
      // A CLI without a key says so; one still set up for the retired shared secret says how to move.
      const unsigned = await cliAs('alice', {}, 'promote', handle.workflowId);
      assert.equal(unsigned.code, 2, unsigned.stderr);
      assert.match(
        unsigned.stderr,
        /promote refused: the worker holds approver keys \(TOLLGATE_APPROVER_KEYS\) but this promote is unsigned/,
      );
      const retired = await cliAs(
        'alice',
        { TOLLGATE_APPROVAL_SECRET: 'old-shared-secret' },
        'promote',
        handle.workflowId,
      );
      assert.equal(retired.code, 2, retired.stderr);
      assert.match(
        retired.stderr,
        /TOLLGATE_APPROVAL_SECRET is set, but the shared approval secret was replaced by per-approver key pairs .*`tollgate keys new --approver <name>`/,
      );
      assert.equal((await queryStatus(handle)).phase, 'awaiting-promotion', 'still waiting');
      // alice's own key: accepted.
      const promoted = await cliAs(
        'alice',
        { TOLLGATE_APPROVER_KEY: KEYS.keyFile('alice') },
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

  it('with approver keys: two signed promotes at once, the first wins; a signed CLI rollback during verification', async () => {
    const { worker, start, nextWorker } = await waitingRun('approve-race', KEYS.keysFile, {
      verification: { durationMs: 120_000 },
    });
    const handle = await worker.runUntil(start());
    // With no worker running, both updates wait at the server and reach the next worker in one
    // workflow task: both pass the validator, and the handlers' checks run concurrently.
    const outcomes = Promise.allSettled([
      promoteDirectly(handle, await signedFor(handle, { by: 'alice' }, 'alice')),
      promoteDirectly(handle, await signedFor(handle, { by: 'bob' }, 'bob')),
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
        { TOLLGATE_APPROVER_KEY: KEYS.keyFile('bob') },
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
