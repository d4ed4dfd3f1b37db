/**
 * Contract test: releases with `runner: dagger` on the real dev server, their stages sent to a fake
 * Dagger engine session (no container engine can run on this machine). The fake "exports" the
 * runtime image's /app as the built sample app with production dependencies, so the release tarball
 * the Dagger build packs is deployed to real local environments.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RunnerSelector } from '../../src/runners/select.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { useSession } from '../support/dagger-fixtures.js';
import {
  APP_DIR,
  APP_SECRETS,
  buildSampleApp,
  REVENUE,
  sampleChain,
  stopSampleEnvironments,
} from '../support/delivery.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import { pipelineStages, releaseInput } from '../support/stages.js';
import { createTestWorker, recordHistory, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let session: fakeDagger.FakeDaggerSession;
let restoreEnv: () => void;
const homes: string[] = [];

/** What the runtime image's /app holds: the sample app built here, with its production dependencies only. */
function runtimeApp(): string {
  const dir = tempDir('dagger-runtime-app');
  for (const path of [
    'src',
    'tsconfig.json',
    'tsconfig.build.json',
    'package.json',
    'package-lock.json',
    'node_modules',
  ])
    cpSync(join(APP_DIR, path), join(dir, path), { recursive: true, verbatimSymlinks: true });
  execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' });
  execFileSync('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
  rmSync(join(dir, 'src'), { recursive: true });
  return dir;
}

before(async () => {
  await buildSampleApp();
  const app = runtimeApp();
  env = await startTestServer();
  session = await fakeDagger.start([
    fakeDagger.onDirectoryExport((path) => cpSync(app, path, { recursive: true, verbatimSymlinks: true })),
    // Container.export: the engine writes the OCI tarball to the host path (the image smoke test imports it).
    {
      when: (query) =>
        fakeDagger.fieldPath(query).at(-1) === 'export' && !fakeDagger.isDirectoryExport(query),
      reply: (query) => {
        const path = fakeDagger.stringArg(query, 'path') ?? '';
        writeFileSync(path, 'fake OCI tarball');
        return { value: path };
      },
    },
    // The image smoke test's probes: curl prints the HTTP status of each path.
    {
      when: (query) => query.includes('"curl"') && fakeDagger.fieldPath(query).at(-1) === 'stdout',
      reply: { value: '200' },
    },
  ]);
  restoreEnv = useSession(session);
});
after(async () => {
  await stopSampleEnvironments(homes);
  restoreEnv?.();
  await session?.close();
  await env?.teardown();
});

it('runs every stage through the Dagger runner and completes with the engine-reported digest', async () => {
  const dir = tempDir('dagger-wf');
  const { taskQueue, workflowId } = uniqueIds('dagger-wf');
  const runners = await RunnerSelector.detect(); // auto: the fake session in DAGGER_SESSION_PORT is an engine
  assert.equal(runners.resolve('auto'), 'dagger');
  const worker = await createTestWorker(env, taskQueue, join(dir, 'home'), { runnerFor: runners.runnerFor });
  const input = { ...releaseInput(dir, pipelineStages()), runner: 'auto' as const };
  const result = await worker.runUntil(
    env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [input],
    }),
  );

  assert.equal(result.outcome, 'succeeded');
  for (const stage of input.stages) {
    assert.equal(result.status.stages[stage.name]?.state, 'succeeded', `${stage.name} succeeded`);
  }
  const artifact = result.status.artifact;
  assert.equal(artifact?.kind, 'tarball');
  assert.equal(
    artifact?.image?.digest,
    fakeDagger.FAKE_DIGEST,
    'the build carries the digest the engine returned',
  );
  const packed = `sha256:${createHash('sha256').update(readFileSync(artifact.path)).digest('hex')}`;
  assert.equal(artifact.digest, packed, "the release tarball's own digest");
  const queries = session.queries.join('\n');
  // Each stage's steps reached the engine as withExec calls, not host processes.
  for (const stage of input.stages) {
    const script = stage.steps[0]!.run[2]!;
    assert.ok(
      queries.includes(JSON.stringify(script).slice(1, 40)),
      `${stage.name}'s step was sent to the engine`,
    );
  }
  assert.match(queries, /directory \(path: "\/app"\) \{ export \(path: "[^"]+",wipe: true\) \}/);
  // What the engine gets as the source is the run's own checkout of the commit, never a working copy.
  const uploaded = [...queries.matchAll(/host\s+\{\s*directory \(path: "([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(uploaded.length > 0, 'the source was uploaded from the host');
  const workspaces = join(dir, 'home', 'workspaces', input.app);
  for (const path of uploaded) assert.ok(path.startsWith(`${workspaces}/`), `${path} is under ${workspaces}`);
});

it('deploys the Dagger build to staging and production: its tarball is what the local environments run', async () => {
  const dir = tempDir('dagger-delivery');
  const home = join(dir, 'home');
  homes.push(home);
  const { taskQueue, workflowId } = uniqueIds('dagger-delivery');
  const worker = await createTestWorker(env, taskQueue, home, {
    runnerFor: new RunnerSelector('dagger').runnerFor,
    secretSource: { ...process.env, ...APP_SECRETS },
  });
  const environments = await sampleChain();
  const input = {
    ...releaseInput(dir, pipelineStages(), { app: 'saas-app', environments, revenue: REVENUE }),
    runner: 'dagger' as const,
  };
  const result = await worker.runUntil(
    env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [input],
    }),
  );

  assert.equal(result.outcome, 'succeeded', result.status.failure);
  for (const stage of ['deploy-to-staging', 'smoke-test-staging', 'deploy-to-production'] as const) {
    assert.equal(result.status.stages[stage]?.state, 'succeeded', `${stage} succeeded`);
  }
  const artifact = result.status.artifact!;
  assert.equal(artifact.image?.digest, fakeDagger.FAKE_DIGEST);
  assert.ok(
    result.status.releaseId?.endsWith(artifact.digest.slice(7, 15)),
    'the release is named by the tarball',
  );
  assert.ok(
    (result.status.environments.production?.verification?.samples.length ?? 0) > 0,
    'production was verified',
  );
  // Staging's smoke test also ran the image as a Dagger service and probed it through a curl container.
  assert.match(
    result.status.stages['smoke-test-staging']?.summary ?? '',
    /image: \d+ probes passed in Dagger/,
  );
  assert.ok(session.queries.some((q) => q.includes('asService') && q.includes('withServiceBinding')));
  recordHistory(env, workflowId, 'release-dagger-image-smoke');
});
