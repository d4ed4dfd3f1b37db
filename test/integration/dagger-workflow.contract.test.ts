/**
 * Contract test: a release with `runner: dagger` on the real dev server, its stages sent to a
 * fake Dagger engine session (no container engine can run on this machine).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RunnerSelector } from '../../src/runners/select.js';
import type { releasePipeline } from '../../src/workflows/deploy.js';
import { useSession } from '../support/dagger-fixtures.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import { pipelineStages, releaseInput } from '../support/stages.js';
import { createTestWorker, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let session: fakeDagger.FakeDaggerSession;
let restoreEnv: () => void;
before(async () => {
  env = await startTestServer();
  session = await fakeDagger.start();
  restoreEnv = useSession(session);
});
after(async () => {
  restoreEnv?.();
  await session?.close();
  await env?.teardown();
});

it('runs every stage through the Dagger runner and completes with the engine-reported digest', async () => {
  const dir = tempDir('dagger-wf');
  const { taskQueue, workflowId } = uniqueIds('dagger-wf');
  const runners = new RunnerSelector(); // auto: the fake session in DAGGER_SESSION_PORT is an engine
  assert.equal(runners.resolve('auto'), 'dagger');
  const worker = await createTestWorker(env, taskQueue, join(dir, 'home'), { runnerFor: runners.runnerFor });
  const input = { ...releaseInput(dir, pipelineStages()), runner: 'auto' as const };
  const result = await worker.runUntil(
    env.client.workflow.execute<typeof releasePipeline>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [input],
    }),
  );

  assert.equal(result.outcome, 'succeeded');
  for (const stage of input.stages) {
    assert.equal(result.status.stages[stage.name]?.state, 'succeeded', `${stage.name} succeeded`);
  }
  assert.equal(
    result.status.artifact?.digest,
    fakeDagger.FAKE_DIGEST,
    'the build carries the digest the engine returned',
  );
  assert.equal(result.status.artifact?.kind, 'oci-image');
  const queries = session.queries.join('\n');
  // Each stage's steps reached the engine as withExec calls, not host processes.
  for (const stage of input.stages) {
    const script = stage.steps[0]!.run[2]!;
    assert.ok(
      queries.includes(JSON.stringify(script).slice(1, 40)),
      `${stage.name}'s step was sent to the engine`,
    );
  }
});
