/**
 * Upgrading workers while a release is in flight: a run started by the workflow code of v0.1 (the
 * last release before the patched() steps) waits at the gate, its worker is replaced by one running
 * today's code, and the run goes on to production. The v0.1 workflow source comes from git history
 * and is bundled here, so the test runs the old code itself, not a recording of it. The activities
 * are today's on both workers, as in a rolling upgrade where new workers take old runs' tasks.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { signApproval } from '../../src/approvals/sign.js';
import { WORKFLOW_BUNDLE_PATH } from '../../src/bundle.js';
import { environmentStatus, stopEnvironment } from '../../src/environments/local/index.js';
import type { releasePipeline } from '../../src/workflows/deploy.js';
import { promoteUpdate } from '../../src/workflows/messages.js';
import {
  APP_DIR,
  APP_SECRETS,
  buildSampleApp,
  deliveryPlan,
  packStage,
  waitForPhase,
} from '../support/delivery.js';
import { createTestWorker, ROOT, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

/** v0.1: the commit whose histories are in test/fixtures/histories/v0.1. */
const V0_1 = '6524a7c1b66972f28f34964f67bfb9f4631c71d1';
const SECRET = `approval-secret-${randomUUID()}`;

let env: TestWorkflowEnvironment;
let v01Bundle: { code: string };
const homes: string[] = [];

/** Bundles the workflow source of `commit`, taken from git history into .tollgate/ (inside the repo, for node_modules). */
async function bundleAt(commit: string): Promise<{ code: string }> {
  const dir = join(ROOT, '.tollgate', 'upgrade', commit);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let archive: Buffer;
  try {
    archive = execFileSync('git', ['-C', ROOT, 'archive', commit, 'src'], { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    throw new Error(
      `the upgrade test needs commit ${commit} from git history: run it in a full clone (git fetch --unshallow)`,
      { cause: error },
    );
  }
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(dir, 'src/workflows/index.ts'),
    logger: new DefaultLogger('WARN'),
    // The sources import './x.js' for './x.ts', as tsc's NodeNext resolution expects.
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } },
    }),
  });
  return { code };
}

before(async () => {
  buildSampleApp();
  v01Bundle = await bundleAt(V0_1);
  env = await startTestServer();
});
after(async () => {
  for (const home of homes)
    for (const name of ['staging', 'production']) await stopEnvironment(home, name).catch(() => undefined);
  await env?.teardown();
});

it(
  "a release started on v0.1's workflow code waits at the gate, then finishes on today's",
  { timeout: 240_000 },
  async () => {
    const home = join(tempDir('upgrade'), 'home');
    homes.push(home);
    const { taskQueue, workflowId } = uniqueIds('upgrade');
    const delivery = await deliveryPlan();
    const manual = {
      ...delivery,
      promotion: { ...delivery.promotion, mode: 'manual' as const, timeoutMs: 10 * 60_000 },
    };
    const secrets = { ...process.env, ...APP_SECRETS };

    // v0.1's worker: knows nothing of signed approvals, notifications or patch markers.
    const old = await createTestWorker(
      env,
      taskQueue,
      home,
      { secretSource: secrets },
      { workflowBundle: v01Bundle },
    );
    const handle: WorkflowHandle<typeof releasePipeline> = await env.client.workflow.start<
      typeof releasePipeline
    >('releasePipeline', {
      taskQueue,
      workflowId,
      args: [
        {
          app: 'saas-app',
          ref: 'upgrade1',
          sourceDir: APP_DIR,
          runner: 'host',
          requestedBy: 'test',
          stages: [packStage()],
          delivery: manual,
        },
      ],
    });
    const waiting = await old.runUntil(waitForPhase(handle, 'awaiting-promotion'));
    assert.equal(waiting.gate?.state, 'waiting');
    const beforeUpgrade = (await handle.fetchHistory()).events?.length ?? 0;

    // Today's worker, holding TOLLGATE_APPROVAL_SECRET: the old run must now take signed decisions only.
    const current = await createTestWorker(env, taskQueue, home, {
      secretSource: { ...secrets, TOLLGATE_APPROVAL_SECRET: SECRET },
    });
    const result = await current.runUntil(async () => {
      await assert.rejects(
        handle.executeUpdate(promoteUpdate, { args: [{ by: 'alice', reason: 'unsigned' }] }),
        (e: unknown) =>
          e instanceof WorkflowUpdateFailedError && /this promote is unsigned/.test(String(e.cause?.message)),
        'a run waiting since before signed approvals still has its decisions checked',
      );
      const { runId } = await handle.describe();
      const decision = { by: 'alice', reason: 'after the upgrade' };
      const signature = signApproval(SECRET, { workflowId, runId, action: 'promote', ...decision });
      const accepted = await handle.executeUpdate(promoteUpdate, { args: [{ ...decision, signature }] });
      assert.equal(accepted.accepted, true);
      return handle.result();
    });

    assert.equal(result.outcome, 'succeeded', result.status.failure);
    assert.equal((await environmentStatus(home, 'production')).current, result.status.releaseId);
    assert.deepEqual(
      result.status.audit.filter((e) => e.action === 'promote').map((e) => [e.by, e.outcome]),
      [
        ['alice', 'refused'],
        ['alice', 'accepted'],
      ],
    );

    // The history is v0.1's up to the upgrade (no patch markers), today's after it (markers); as a
    // whole it replays on today's code, which is what any later worker will do with it.
    const history = await handle.fetchHistory();
    const markers = (history.events ?? []).flatMap((event, index) => {
      const name = event.markerRecordedEventAttributes?.markerName;
      return name ? [{ name, index }] : [];
    });
    assert.ok(
      markers.some((m) => m.name === 'core_patch'),
      "today's code recorded its patch markers once it ran",
    );
    assert.deepEqual(
      markers.filter((m) => m.index < beforeUpgrade),
      [],
      'nothing before the upgrade has a marker (patches or local activities)',
    );
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } },
      history,
      workflowId,
    );
  },
);
