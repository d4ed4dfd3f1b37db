/**
 * The cluster lane's fault test: three worker processes on one task queue of the self-hosted cluster
 * (scripts/cluster: Temporal on PostgreSQL), releases of several apps in flight, one worker SIGKILLed
 * mid-stage and the PostgreSQL server restarted mid-release. Every release completes, no completed
 * stage runs again, no environment is deployed twice.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStatus, envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import type { EnvironmentLink, StagePlan } from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { freePort } from '../support/delivery.js';
import { environmentPlan, markers, pipelineStages, releaseInput, shStage } from '../support/stages.js';
import {
  ROOT,
  spawnWorker,
  startTestServer,
  TEST_CLUSTER,
  tempDir,
  uniqueIds,
  waitUntil,
} from '../support/temporal.js';

const APPS = 6;
const FIXTURE = join(ROOT, 'test/fixtures/env-app');

let env: TestWorkflowEnvironment;
const workers: ChildProcess[] = [];
const homes: { home: string; app: string }[] = [];

describe(
  'three workers on the cluster',
  { skip: !TEST_CLUSTER && 'cluster lane only: scripts/test --cluster' },
  () => {
    before(async () => {
      env = await startTestServer();
    });
    after(async () => {
      for (const w of workers) w.kill('SIGKILL');
      for (const { home, app } of homes) {
        await stopEnvironment(envPaths(home, { app, name: 'staging' })).catch(() => undefined);
      }
      await env?.teardown();
    });

    it('a worker SIGKILLed mid-stage and PostgreSQL restarted mid-release: every release completes, nothing runs or deploys twice', async () => {
      const dir = tempDir('cluster-faults');
      const home = join(dir, 'home');
      const { taskQueue } = uniqueIds('cluster-faults');
      const started = [
        startWorker(taskQueue, home),
        startWorker(taskQueue, home),
        startWorker(taskQueue, home),
      ];

      const runs: { app: string; dir: string; handle: WorkflowHandle<ReleaseWorkflow> }[] = [];
      for (let i = 1; i <= APPS; i++) {
        const app = `cluster-app-${i}`;
        const appDir = join(dir, app);
        homes.push({ home, app });
        const input = releaseInput(appDir, stagesOf(), {
          app,
          environments: [await stagingOf(app)],
          // The server notices a dead worker's stage within 2 s.
          heartbeatTimeoutMs: 2000,
        });
        const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
          taskQueue,
          workflowId: uniqueIds(app).workflowId,
          args: [input],
        });
        runs.push({ app, dir: appDir, handle });
      }

      // SIGKILL the first worker once it runs a stage: the server's pending activity names its worker.
      const victim = started[0]!;
      const victimIdentity = `${victim.pid}@`;
      await waitUntil(async () => {
        for (const { handle } of runs) {
          const { raw } = await handle.describe();
          const running = (raw.pendingActivities ?? []).filter(
            (a) => a.activityType?.name === 'runStage' && a.lastWorkerIdentity?.startsWith(victimIdentity),
          );
          if (running.length > 0) return true;
        }
        return false;
      }, 'the first worker to be running a stage');
      victim.kill('SIGKILL');
      await new Promise((resolve) => victim.once('exit', resolve));

      // Then restart PostgreSQL under the running server while the releases are still in flight.
      const open = await Promise.all(runs.map(async ({ handle }) => (await handle.describe()).status.name));
      assert.ok(open.includes('RUNNING'), `releases in flight at the PostgreSQL restart: ${open.join(', ')}`);
      execFileSync('bash', [join(ROOT, 'scripts/cluster'), 'restart-postgres'], { stdio: 'inherit' });

      const results = await Promise.all(runs.map(({ handle }) => handle.result()));
      for (const [i, result] of results.entries()) {
        assert.equal(result.outcome, 'succeeded', `${runs[i]!.app}: ${result.status.failure ?? ''}`);
      }

      // Temporal's word on each stage: how often the server handed it out, and when the workflow
      // recorded it completed. A recorded completion is final: no run of the stage starts after it.
      // A stage the dead worker held (running, or finished but not yet reported), or one whose
      // heartbeats PostgreSQL's restart cut off, runs again elsewhere: each run is an attempt the
      // server handed out, never an extra one.
      let rerun = 0;
      for (const [i, { app, dir: appDir }] of runs.entries()) {
        const status = results[i]!.status;
        for (const stage of stagesOf()) {
          const { starts, ends } = markers(appDir, stage.name);
          const recorded = status.stages[stage.name]!;
          const attempts = recorded.attempts ?? 1;
          const completedAt = Date.parse(recorded.endedAt ?? '');
          const where = `${app} ${stage.name} (starts ${starts.join(', ')}; ends ${ends.join(', ')}; attempts ${attempts}; recorded ${completedAt})`;
          // The dead worker may have died before the command started: at most one run per attempt.
          assert.ok(starts.length >= 1 && starts.length <= attempts, `${where}: every run is an attempt`);
          assert.ok(ends.length >= 1 && ends.length <= starts.length, `${where}: it finished`);
          assert.ok(
            starts.every((at) => at <= completedAt),
            `${where}: nothing started after the completion was recorded`,
          );
          if (attempts > 1) rerun++;
        }
        const staging = await environmentStatus(home, { app, name: 'staging' });
        const deployed = staging.history.filter((h) => h.event === 'deployed');
        assert.equal(deployed.length, 1, `${app} staging deployed once: ${JSON.stringify(staging.history)}`);
        assert.ok(staging.current, `${app} staging serves its release`);
      }
      assert.ok(rerun >= 1, 'the killed worker held at least one stage, which ran again elsewhere');
    });
  },
);

/** A worker process, as each machine of a fleet runs one. */
function startWorker(taskQueue: string, home: string): ChildProcess {
  const worker = spawnWorker(env, taskQueue, home);
  workers.push(worker);
  return worker;
}

/** The sample graph with stages long enough to be caught mid-run; the build packs the env-app fixture. */
function stagesOf(): StagePlan[] {
  return pipelineStages({
    'test-suite': shStage('test-suite', 'sleep 3'),
    'test-rag-engine': shStage('test-rag-engine', 'sleep 2'),
    'build-production-image': shStage(
      'build-production-image',
      `cp -r '${FIXTURE}/dist' '${FIXTURE}/package.json' .`,
      { artifact: { include: ['dist', 'package.json'], install: ['true'], sbom: ['sh', '-c', 'echo "{}"'] } },
    ),
    // Room for two faults in a row: each can cost a stage an attempt.
  }).map((plan) => ({ ...plan, retry: { ...plan.retry, maximumAttempts: 5 } }));
}

/** A staging environment of `app` behind an automatic gate. */
async function stagingOf(app: string): Promise<EnvironmentLink> {
  return {
    environment: environmentPlan(app, 'staging', await freePort()),
    promotion: { mode: 'auto', approvers: [], timeoutMs: 60_000, onTimeout: 'rollback' },
  };
}
