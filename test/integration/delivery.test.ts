/**
 * Staging, the promotion gate, blue/green production and the verification window, with the real
 * sample app in real local environments (supervised processes behind switching proxies).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStatus, envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import { FailureType } from '../../src/failures.js';
import type { EnvironmentLink, ReleaseStatus } from '../../src/types.js';
import { queryStatus } from '../../src/cli/runs.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import {
  promoteSignal,
  promoteUpdate,
  rollbackSignal,
  rollbackUpdate,
} from '../../src/workflows/messages.js';
import {
  buildSampleApp,
  requestLoop,
  sampleChain,
  sampleCommit,
  sampleInput,
  waitForPhase,
  deliveryWorker,
  failureOf,
} from '../support/delivery.js';
import { recordHistory, startTestServer } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
const homes: string[] = [];
before(async () => {
  await buildSampleApp();
  env = await startTestServer();
});
const setup = (label: string) => deliveryWorker(env, label, homes);
after(async () => {
  for (const home of homes) {
    for (const name of ['staging', 'production']) {
      await stopEnvironment(envPaths(home, { app: 'saas-app', name })).catch(() => undefined);
    }
  }
  await env?.teardown();
});

/** Starts a release of a new commit (labelled `label`) of the sample app in `repo` through `chain`. */
function start(
  taskQueue: string,
  workflowId: string,
  chain: EnvironmentLink[],
  repo: string,
  label: string,
  releaseEnv: Record<string, string> = {},
): Promise<WorkflowHandle<ReleaseWorkflow>> {
  return env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
    taskQueue,
    workflowId,
    args: [sampleInput(sampleCommit(repo, label), chain, { releaseEnv })],
  });
}

/** What production's proxy serves now, by release id. */
async function serving(home: string, name: 'staging' | 'production'): Promise<string | null> {
  return (await environmentStatus(home, { app: 'saas-app', name })).current;
}

describe('delivery', () => {
  it('promotes through the gate, switches production without a failed request, retires the old release', async () => {
    const { worker, taskQueue, workflowId, home, repo } = await setup('promote');
    const delivery = await sampleChain();
    await worker.runUntil(async () => {
      // First release: auto promotion, so production has a release to replace.
      const first = await (await start(taskQueue, `${workflowId}-1`, delivery, repo, 'first')).result();
      assert.equal(first.outcome, 'succeeded');
      const firstId = first.status.releaseId!;
      assert.equal(await serving(home, 'production'), firstId);

      // The same environments, now with a manual gate before production.
      const manual = delivery.map((link) =>
        link.verification ? { ...link, promotion: { ...link.promotion, mode: 'manual' as const } } : link,
      );
      const handle = await start(taskQueue, `${workflowId}-2`, manual, repo, 'second');
      const waiting = await waitForPhase(handle, 'awaiting-promotion');
      assert.equal(waiting.environments.production?.gate?.state, 'waiting');
      assert.equal(waiting.environment, 'production');
      assert.equal(await serving(home, 'production'), firstId, 'production untouched while waiting');

      // Not an approver: refused by the validator, nothing changes.
      await assert.rejects(
        handle.executeUpdate(promoteUpdate, { args: [{ by: 'mallory' }] }),
        (e: unknown) =>
          e instanceof WorkflowUpdateFailedError &&
          /mallory is not an approver/.test(String(e.cause?.message)),
      );
      assert.equal((await queryStatus(handle)).phase, 'awaiting-promotion');

      const load = requestLoop(`http://127.0.0.1:${delivery[1]!.environment.port}/healthz`);
      const accepted = await handle.executeUpdate(promoteUpdate, {
        args: [{ by: 'alice', reason: 'staging is green' }],
      });
      assert.equal(accepted.accepted, true);
      await waitForPhase(handle, 'verifying');
      // Not waiting at the gate any more: a second promote is refused.
      await assert.rejects(
        handle.executeUpdate(promoteUpdate, { args: [{ by: 'alice' }] }),
        (e: unknown) =>
          e instanceof WorkflowUpdateFailedError &&
          /not waiting at a promotion gate/.test(String(e.cause?.message)),
      );
      const result = await handle.result();
      const traffic = await load.stop();

      assert.equal(result.outcome, 'succeeded');
      assert.equal(await serving(home, 'production'), result.status.releaseId);
      assert.deepEqual(traffic.failed, [], 'no failed request while production switched');
      assert.ok(traffic.ok > 20, `the loop made requests (${traffic.ok})`);
      const production = await environmentStatus(home, { app: 'saas-app', name: 'production' });
      assert.ok(
        !production.releases.some((r) => r.releaseId === firstId && r.alive),
        'the replaced release was retired',
      );
      const promotion = result.status.audit.find((e) => e.action === 'promote' && e.outcome === 'accepted');
      assert.equal(promotion?.by, 'alice');
      assert.equal(promotion?.digest, result.status.artifact?.digest);
      assert.ok(
        result.status.environments.production!.verification!.samples.length >= 2,
        'the window sampled production',
      );
      recordHistory(env, `${workflowId}-2`, 'release-promoted');
    });
  });

  it('a gate timeout takes the configured action (rollback): production never touched', async () => {
    const { worker, taskQueue, workflowId, home, repo } = await setup('timeout');
    const delivery = await sampleChain({
      promotion: { mode: 'manual', approvers: ['alice'], timeoutMs: 1500, onTimeout: 'rollback' },
    });
    await worker.runUntil(async () => {
      const failure = await failureOf(await start(taskQueue, workflowId, delivery, repo, 'timeout'));
      assert.equal(failure.type, FailureType.RolledBack);
      const status = failure.details?.[0] as ReleaseStatus;
      assert.equal(status.phase, 'rolled-back');
      assert.equal(status.environments.production?.gate?.state, 'timed-out');
      assert.ok(status.compensations.some((c) => c.name === 'restore staging' && c.ok));
      assert.equal(await serving(home, 'production'), null, 'production was never deployed');
      assert.equal(
        await serving(home, 'staging'),
        null,
        'staging had no earlier release, so nothing serves there',
      );
    });
  });

  it("signals from the UI: a refused one is audited and changes nothing, an approver's promotes", async () => {
    const { worker, taskQueue, workflowId, repo } = await setup('signal');
    const delivery = await sampleChain({
      promotion: { mode: 'manual', approvers: ['alice'], timeoutMs: 120_000, onTimeout: 'rollback' },
    });
    await worker.runUntil(async () => {
      const handle = await start(taskQueue, workflowId, delivery, repo, 'signal');
      await waitForPhase(handle, 'awaiting-promotion');
      await handle.signal(promoteSignal, { by: 'mallory', reason: 'let me in' });
      await handle.signal(rollbackSignal, { by: '' });
      const status = await queryStatus(handle);
      assert.equal(status.phase, 'awaiting-promotion', 'refused signals change nothing');
      const requests = status.audit.filter((e) => e.action !== 'auto-promote');
      assert.deepEqual(
        requests.map((e) => [e.action, e.by, e.outcome]),
        [
          ['promote', 'mallory', 'refused'],
          ['rollback', '', 'refused'],
        ],
      );
      assert.match(requests[0]!.reason, /refused: mallory is not an approver/);
      await handle.signal(promoteSignal, { by: 'alice', reason: 'from the UI' });
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.status.environments.production?.gate?.decidedBy, 'alice');
    });
  });

  it('cancellation at the gate runs the compensations: staging restored, artifact discarded', async () => {
    const { worker, taskQueue, workflowId, home, repo } = await setup('cancel-gate');
    const delivery = await sampleChain({
      promotion: { mode: 'manual', approvers: ['alice'], timeoutMs: 120_000, onTimeout: 'rollback' },
    });
    await worker.runUntil(async () => {
      const handle = await start(taskQueue, workflowId, delivery, repo, 'cancelled');
      const waiting = await waitForPhase(handle, 'awaiting-promotion');
      assert.equal(await serving(home, 'staging'), waiting.releaseId);
      await handle.cancel();
      const error = await handle.result().catch((e: unknown) => e);
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure);
      const status = await queryStatus(handle);
      assert.equal(status.phase, 'cancelled');
      assert.deepEqual(
        status.compensations.map((c) => [c.name, c.ok]),
        [
          ['restore staging', true],
          ['discard artifact', true],
        ],
      );
      assert.equal(await serving(home, 'staging'), null, 'the cancelled release no longer serves staging');
      assert.equal(existsSync(status.artifact!.path), false, 'the artifact was discarded');
      assert.equal(status.audit.at(-1)?.outcome, 'cancelled', 'the outcome is in the audit trail');
    });
  });

  it('a failing smoke test (SAAS_FAULT=webhook) puts staging back on its previous release', async () => {
    const { worker, taskQueue, workflowId, home, repo } = await setup('smoke');
    const delivery = await sampleChain();
    await worker.runUntil(async () => {
      const good = await (await start(taskQueue, `${workflowId}-1`, delivery, repo, 'good')).result();
      const goodId = good.status.releaseId!;
      const failure = await failureOf(
        await start(taskQueue, `${workflowId}-2`, delivery, repo, 'webhook', { SAAS_FAULT: 'webhook' }),
      );
      assert.equal(failure.type, FailureType.SmokeTestFailed);
      assert.match(failure.message, /signed webhook counted/);
      assert.equal(await serving(home, 'staging'), goodId, 'staging is back on the release that passed');
      assert.equal(await serving(home, 'production'), goodId, 'production was not touched');
    });
  });

  it('a breach in the verification window (SAAS_FAULT=slow) switches traffic back and names the signal', async () => {
    const { worker, taskQueue, workflowId, home, repo } = await setup('breach');
    const delivery = await sampleChain();
    await worker.runUntil(async () => {
      const good = await (await start(taskQueue, `${workflowId}-1`, delivery, repo, 'good')).result();
      const goodId = good.status.releaseId!;
      const load = requestLoop(`http://127.0.0.1:${delivery[1]!.environment.port}/api/insights?q=churn`, 2);
      const failure = await failureOf(
        await start(taskQueue, `${workflowId}-2`, delivery, repo, 'slow', { SAAS_FAULT: 'slow' }),
      );
      await load.stop();
      assert.equal(failure.type, FailureType.VerificationBreach);
      assert.match(failure.message, /verification of production breached latency/);
      const status = failure.details?.[0] as ReleaseStatus;
      assert.equal(status.phase, 'rolled-back');
      assert.equal(await serving(home, 'production'), goodId, 'traffic is back on the previous release');
      assert.ok(status.audit.some((e) => e.action === 'auto-rollback' && /latency/.test(e.reason)));
      assert.deepEqual(
        status.compensations.map((c) => c.name),
        ['restore production', 'restore staging', 'discard artifact'],
        'compensations ran newest first',
      );
      recordHistory(env, `${workflowId}-2`, 'release-verification-breach');
    });
  });

  it('an operator rollback during verification switches production back', async () => {
    const { worker, taskQueue, workflowId, home, repo } = await setup('rollback');
    const delivery = await sampleChain({ verification: { durationMs: 60_000 } });
    const short = delivery.map((link) =>
      link.verification ? { ...link, verification: { ...link.verification, durationMs: 1000 } } : link,
    );
    await worker.runUntil(async () => {
      const good = await (await start(taskQueue, `${workflowId}-1`, short, repo, 'good')).result();
      const handle = await start(taskQueue, `${workflowId}-2`, delivery, repo, 'second');
      await waitForPhase(handle, 'verifying');
      const load = requestLoop(`http://127.0.0.1:${delivery[1]!.environment.port}/healthz`);
      await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', reason: 'checkout looks off' }] });
      const failure = await failureOf(handle);
      const traffic = await load.stop();
      assert.equal(failure.type, FailureType.RolledBack);
      assert.match(
        failure.message,
        /rolled back during verification of production by alice: checkout looks off/,
      );
      assert.equal(await serving(home, 'production'), good.status.releaseId);
      assert.deepEqual(traffic.failed, [], 'no failed request while production rolled back');
    });
  });
});
