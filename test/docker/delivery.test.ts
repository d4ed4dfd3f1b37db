/**
 * The sample app released for real with staging on `local` (host processes) and production on
 * `docker` (containers under the real engine): a verification breach switching back under load,
 * a worker SIGKILLed mid-deploy, and the engine restarted in the middle of the verification window.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { queryStatus } from '../../src/cli/runs.js';
import { environmentStatus } from '../../src/environments/local/index.js';
import { FailureType } from '../../src/failures.js';
import type { EnvironmentLink, ReleaseStatus } from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import {
  APP_SECRETS,
  buildSampleApp,
  deliveryWorker,
  failureOf,
  requestLoop,
  sampleChain,
  sampleCommit,
  sampleInput,
  stopSampleEnvironments,
} from '../support/delivery.js';
import { runCli } from '../support/cli.js';
import { containersOf, dockerPlan, engineControl } from '../support/docker.js';
import {
  ROOT,
  startTestServer,
  tempDir,
  TEST_CACHE_DIR,
  uniqueIds,
  temporalEnv,
} from '../support/temporal.js';

let env: TestWorkflowEnvironment;
const homes: string[] = [];
const workers: ChildProcess[] = [];
before(async () => {
  await buildSampleApp();
  env = await startTestServer();
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await stopSampleEnvironments(homes);
  for (const home of homes)
    for (const c of await containersOf(home, { app: 'saas-app', name: 'production' }).catch(() => []))
      spawnSync('docker', ['rm', '-f', c.Id]);
  await env?.teardown();
});

/** The sample chain with production on the docker driver. */
async function dockerChain(verification: Partial<NonNullable<EnvironmentLink['verification']>> = {}) {
  const chain = await sampleChain({ verification });
  const production = chain[1]!;
  production.environment = { ...production.environment, driver: 'docker', docker: dockerPlan() };
  return chain;
}

function start(
  taskQueue: string,
  workflowId: string,
  chain: EnvironmentLink[],
  repo: string,
  label: string,
  releaseEnv: Record<string, string> = {},
) {
  return env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
    taskQueue,
    workflowId,
    args: [sampleInput(sampleCommit(repo, label), chain, { releaseEnv })],
  });
}

/** Production's containers, by release id. */
async function productionContainers(home: string): Promise<string[]> {
  return (await containersOf(home, { app: 'saas-app', name: 'production' }))
    .map((c) => c.Labels['dev.tollgate.release'] ?? '')
    .sort();
}

describe('the docker driver in a release', () => {
  it('staging on local, production on docker; a breach switches production back within 1 s, 0 failed requests', async () => {
    const { worker, taskQueue, workflowId, home, repo } = await deliveryWorker(env, 'docker-breach', homes);
    const chain = await dockerChain();
    await worker.runUntil(async () => {
      // At info level the release logs its requests: output for `tollgate env logs` to show.
      const good = await (
        await start(taskQueue, `${workflowId}-1`, chain, repo, 'good', { LOG_LEVEL: 'info' })
      ).result();
      assert.equal(good.outcome, 'succeeded');
      const goodId = good.status.releaseId!;
      assert.deepEqual(
        await productionContainers(home),
        [goodId],
        'production runs the release as a container',
      );
      // `tollgate env logs production`: the container's output, through the real CLI.
      const logs = await runCli(['env', 'logs', 'production', '--app', 'saas-app', '--json'], {
        ...process.env,
        TOLLGATE_HOME: home,
      });
      assert.equal(logs.code, 0, logs.stderr);
      const printed = JSON.parse(logs.stdout) as { releaseId: string; tail: string };
      assert.equal(printed.releaseId, goodId);
      const lines = printed.tail.trimEnd().split('\n');
      const [container] = await containersOf(home, { app: 'saas-app', name: 'production' });
      const engineLogs = spawnSync('docker', ['logs', container!.Id], { encoding: 'utf8' });
      assert.ok(lines.length > 0 && lines[0] !== '', `the release's output: ${printed.tail}`);
      assert.ok(
        engineLogs.stdout.includes(lines.at(-1)!),
        "what the CLI printed is the container's output, as the engine keeps it",
      );
      const staging = await environmentStatus(home, { app: 'saas-app', name: 'staging' });
      assert.ok(
        staging.releases.every((r) => r.container === undefined),
        'staging runs processes',
      );

      const load = requestLoop(`http://127.0.0.1:${chain[1]!.environment.port}/api/insights?q=churn`, 2);
      const failure = await failureOf(
        await start(taskQueue, `${workflowId}-2`, chain, repo, 'slow', { SAAS_FAULT: 'slow' }),
      );
      const { ok, failed } = await load.stop();
      assert.equal(failure.type, FailureType.VerificationBreach);
      const status = failure.details?.[0] as ReleaseStatus;
      assert.equal(status.phase, 'rolled-back');
      const production = await environmentStatus(home, { app: 'saas-app', name: 'production' });
      assert.equal(production.current, goodId, 'production is back on the good release');
      assert.deepEqual(failed, [], `no failed request among ${ok}`);
      // From the breaching sample to the supervisor moving traffic back (its history entry, written as the proxy target moves).
      const breach = status.environments.production?.verification?.samples.find((sample) => sample.breach);
      const switched = production.history
        .filter((h) => h.event === 'activated' && h.releaseId === goodId)
        .at(-1);
      assert.ok(breach && switched, 'both the breach and the switch back are recorded');
      const ms = Date.parse(switched.at) - Date.parse(breach.at);
      console.log(`# docker: breaching sample to switch back ${ms} ms; ${ok} requests, 0 failed`);
      assert.ok(ms >= 0 && ms < 1000, `switched back ${ms} ms after the verdict`);
    });
  });

  it('a worker SIGKILLed mid-deploy to docker: the next worker finishes, the release is deployed once', async () => {
    const dir = tempDir('docker-crash');
    const home = join(dir, 'home');
    homes.push(home);
    const { taskQueue, workflowId } = uniqueIds('docker-crash');
    const chain = await dockerChain();
    const startWorker = (): ChildProcess => {
      const worker = spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
        env: {
          ...process.env,
          ...APP_SECRETS,
          ...temporalEnv(env),
          TOLLGATE_TASK_QUEUE: taskQueue,
          TOLLGATE_HOME: home,
          // The sample app's installed dependencies, as buildSampleApp left them for the test workers.
          TOLLGATE_CACHE_DIR: TEST_CACHE_DIR,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      workers.push(worker);
      return worker;
    };
    const first = startWorker();
    const handle = await start(taskQueue, workflowId, chain, join(dir, 'repo'), 'crash');
    // Mid-deploy: the run deploys to production and the engine has begun (the image or its container).
    for (;;) {
      const status = await queryStatus(handle);
      if (status.environment === 'production' && status.phase === 'deploying') break;
      if (['succeeded', 'failed', 'rolled-back'].includes(status.phase))
        assert.fail(`run ended in ${status.phase}: ${status.failure ?? ''}`);
      await sleep(50);
    }
    first.kill('SIGKILL');
    startWorker();
    const result = await handle.result();
    assert.equal(result.outcome, 'succeeded');
    const releaseId = result.status.releaseId!;
    const production = await environmentStatus(home, { app: 'saas-app', name: 'production' });
    assert.equal(production.current, releaseId);
    assert.equal(
      production.history.filter((h) => h.event === 'deployed' && h.releaseId === releaseId).length,
      1,
      'deployed once',
    );
    assert.deepEqual(await productionContainers(home), [releaseId], 'one container, no leftover');
  });

  it('the engine restarted in the middle of the verification window: the release finishes, no request fails', async () => {
    const { worker, taskQueue, workflowId, home, repo } = await deliveryWorker(env, 'docker-engine', homes);
    const chain = await dockerChain({ durationMs: 15_000, intervalMs: 500 });
    await worker.runUntil(async () => {
      const handle = await start(taskQueue, workflowId, chain, repo, 'engine');
      for (;;) {
        const status = await queryStatus(handle);
        if (status.phase === 'verifying' && status.environment === 'production') break;
        if (['succeeded', 'failed', 'rolled-back'].includes(status.phase))
          assert.fail(`run ended in ${status.phase}: ${status.failure ?? ''}`);
        await sleep(50);
      }
      const before = await containersOf(home, { app: 'saas-app', name: 'production' });
      const load = requestLoop(`http://127.0.0.1:${chain[1]!.environment.port}/api/insights?q=churn`, 2);
      // Asynchronously: the request loop (in this process) keeps sending while the engine is down.
      const answeredBefore = load.answered();
      const restartStarted = performance.now();
      await engineControl('engine-restart');
      const during = load.answered() - answeredBefore;
      const restartMs = performance.now() - restartStarted;
      console.log(`# engine restart took ${restartMs.toFixed(0)} ms; ${during} requests answered meanwhile`);
      assert.ok(during > 0, 'production answered while the engine restarted');
      const result = await handle.result();
      const { ok, failed } = await load.stop();
      assert.equal(result.outcome, 'succeeded');
      assert.deepEqual(failed, [], `no failed request among ${ok}`);
      const after = await containersOf(home, { app: 'saas-app', name: 'production' });
      assert.deepEqual(
        after.map((c) => c.Id),
        before.map((c) => c.Id),
        'the same containers, kept running',
      );
    });
  });
});
