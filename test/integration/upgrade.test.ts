/**
 * Upgrading workers while a release is in flight: a run started by older workflow code waits at the
 * gate, its worker is replaced by one running today's code, and the run goes on to production. Two
 * old versions: v0.1 (before the patched() steps) and the last code of schema 1 (before a release
 * became one commit). The old workflow source comes from git history and is bundled here, so the test
 * runs the old code itself, not a recording of it. The activities are today's on both workers, as in
 * a rolling upgrade where new workers take old runs' tasks (so they get the plans old code sends).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { signApproval } from '../../src/approvals/sign.js';
import { WORKFLOW_BUNDLE_PATH } from '../../src/bundle.js';
import { environmentStatus, envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import type {
  DeliveryPlan,
  ReleaseInput as ReleaseInputV1,
  ReleaseResult as ReleaseResultV1,
} from '../../src/workflows/legacy/types.js';
import { promoteUpdate } from '../../src/workflows/messages.js';
import {
  APP_DIR,
  APP_SECRETS,
  buildSampleApp,
  packStage,
  REVENUE,
  sampleChain,
  stopSampleEnvironments,
  waitForPhase,
} from '../support/delivery.js';
import { testApprovers } from '../support/approvers.js';
import { createTestWorker, ROOT, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

/** v0.1: the commit whose histories are in test/fixtures/histories/schema-1/v0.1. */
const V0_1 = '6524a7c1b66972f28f34964f67bfb9f4631c71d1';
/** The last code of schema 1: the histories in test/fixtures/histories/schema-1. */
const SCHEMA_1 = '272164018feba299372ead16d2a24375ee17b51d';

/** The release workflow as schema 1 clients started it. */
type ReleaseWorkflowV1 = (input: ReleaseInputV1) => Promise<ReleaseResultV1>;
// alice's key pair: her public key in the upgraded worker's TOLLGATE_APPROVER_KEYS file.
const KEYS = testApprovers(['alice']);

let env: TestWorkflowEnvironment;
const bundles = new Map<string, { code: string }>();
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
  await buildSampleApp();
  // Schema 1 runs work in the source folder on the worker's disk: the built sample app.
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: APP_DIR, stdio: 'inherit' });
  for (const commit of [V0_1, SCHEMA_1]) bundles.set(commit, await bundleAt(commit));
  env = await startTestServer();
});
after(async () => {
  await stopSampleEnvironments(homes);
  for (const home of homes) {
    for (const name of ['staging', 'production']) {
      await stopEnvironment(envPaths(home, { name })).catch(() => undefined);
    }
  }
  await env?.teardown();
});

/** A schema 1 delivery plan (staging then production, no app in the plans) on free ports, with a manual gate. */
async function deliveryV1(): Promise<DeliveryPlan> {
  const [staging, production] = (await sampleChain()).map(
    ({ environment: { app: _app, docker: _docker, ...plan } }) => ({ ...plan, driver: 'local' as const }),
  );
  return {
    staging: staging!,
    production: production!,
    promotion: { mode: 'manual', approvers: ['alice'], timeoutMs: 10 * 60_000, onTimeout: 'rollback' },
    smoke: {
      routes: ['/api/insights?q=pricing'],
      webhookPath: REVENUE.webhookPath,
      revenuePath: REVENUE.revenuePath,
      webhookSecret: REVENUE.webhookSecret,
    },
    verification: {
      durationMs: 3000,
      intervalMs: 500,
      maxErrorRate: 0.01,
      maxP95LatencyMs: 800,
      revenuePath: REVENUE.revenuePath,
    },
  };
}

/** Starts a schema 1 release of the sample app (built in place) through `delivery`, as a 0.1 client did. */
function startV1(
  taskQueue: string,
  workflowId: string,
  delivery: DeliveryPlan,
): Promise<WorkflowHandle<ReleaseWorkflowV1>> {
  const { needs: _needs, ...stage } = packStage();
  return env.client.workflow.start<ReleaseWorkflowV1>('releasePipeline', {
    taskQueue,
    workflowId,
    args: [
      {
        app: 'saas-app',
        ref: 'upgrade1',
        sourceDir: APP_DIR,
        runner: 'host',
        requestedBy: 'test',
        // The source folder is built already: the stage only packs it.
        stages: [{ ...stage, name: 'build-production-image', steps: [{ run: ['true'], env: {} }] }],
        delivery,
      },
    ],
  });
}

/** What production serves: an environment of 0.1 lies at envs/production, one of today's workers at envs/saas-app/production. */
async function productionOf(home: string): Promise<string | null> {
  return (await environmentStatus(home, { app: 'saas-app', name: 'production' })).current;
}

it(
  "a release started on v0.1's workflow code waits at the gate, then finishes on today's",
  { timeout: 240_000 },
  async () => {
    const home = join(tempDir('upgrade'), 'home');
    homes.push(home);
    const { taskQueue, workflowId } = uniqueIds('upgrade');
    const manual = await deliveryV1();
    const secrets = { ...process.env, ...APP_SECRETS };

    // v0.1's worker: knows nothing of signed approvals, notifications or patch markers.
    const old = await createTestWorker(
      env,
      taskQueue,
      home,
      { secretSource: secrets },
      { workflowBundle: bundles.get(V0_1)! },
    );
    const handle = await startV1(taskQueue, workflowId, manual);
    const waiting = await old.runUntil(waitForPhase(handle, 'awaiting-promotion'));
    assert.equal(waiting.environments.production?.gate?.state, 'waiting');
    const beforeUpgrade = (await handle.fetchHistory()).events?.length ?? 0;

    // Today's worker, holding approver keys: the old run must now take signed decisions only.
    const current = await createTestWorker(env, taskQueue, home, {
      secretSource: { ...secrets, TOLLGATE_APPROVER_KEYS: KEYS.keysFile },
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
      const signature = signApproval(KEYS.privateKey('alice'), {
        workflowId,
        runId,
        action: 'promote',
        ...decision,
      });
      const accepted = await handle.executeUpdate(promoteUpdate, { args: [{ ...decision, signature }] });
      assert.equal(accepted.accepted, true);
      return handle.result();
    });

    assert.equal(result.outcome, 'succeeded', result.status.failure);
    assert.equal(await productionOf(home), result.status.releaseId);
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

it(
  'a release started on the last code of schema 1 waits at the gate, then finishes on the frozen schema 1 flow',
  { timeout: 240_000 },
  async () => {
    const home = join(tempDir('upgrade-schema-1'), 'home');
    homes.push(home);
    const { taskQueue, workflowId } = uniqueIds('upgrade-schema-1');
    const secrets = { ...process.env, ...APP_SECRETS };
    const old = await createTestWorker(
      env,
      taskQueue,
      home,
      { secretSource: secrets },
      { workflowBundle: bundles.get(SCHEMA_1)! },
    );
    const handle = await startV1(taskQueue, workflowId, await deliveryV1());
    await old.runUntil(waitForPhase(handle, 'awaiting-promotion'));
    const beforeUpgrade = (await handle.fetchHistory()).events?.length ?? 0;

    const current = await createTestWorker(env, taskQueue, home, { secretSource: secrets });
    const result = await current.runUntil(async () => {
      const accepted = await handle.executeUpdate(promoteUpdate, {
        args: [{ by: 'alice', reason: 'after the upgrade' }],
      });
      assert.equal(accepted.accepted, true);
      return handle.result();
    });
    assert.equal(result.outcome, 'succeeded', result.status.failure);
    // Still the schema 1 run it began as: its status has the one gate of schema 1, and no schema version.
    assert.equal(result.status.gate?.state, 'promoted');
    assert.equal('schemaVersion' in result.status, false);
    assert.equal(await productionOf(home), result.status.releaseId);
    const history = await handle.fetchHistory();
    const markers = (history.events ?? []).flatMap(
      (event) => event.markerRecordedEventAttributes?.markerName ?? [],
    );
    assert.ok(markers.length > 0 && (history.events?.length ?? 0) > beforeUpgrade);
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } },
      history,
      workflowId,
    );
  },
);
