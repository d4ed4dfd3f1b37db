/** Builds on a task queue of their own: the build stage runs on the build worker, every other stage on the release worker. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities/index.js';
import { RunnerSelector } from '../../src/runners/select.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { pipelineStages, releaseInput } from '../support/stages.js';
import {
  createTestWorker,
  startTestServer,
  tempDir,
  TEST_CACHE_DIR,
  testDataConverter,
  uniqueIds,
} from '../support/temporal.js';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.teardown();
});

describe('build task queue', () => {
  it('routes build-production-image to the build queue and nothing else', async () => {
    const dir = tempDir('build-queue');
    const { taskQueue, workflowId } = uniqueIds('build-queue');
    const buildQueue = `${taskQueue}-build`;
    const home = join(dir, 'home');
    const releaseWorker = await createTestWorker(env, taskQueue, home);
    // A build worker polls only activities: no workflow code, like `TOLLGATE_WORKER_QUEUES=build`.
    const dataConverter = testDataConverter();
    const buildWorker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      ...(dataConverter ? { dataConverter } : {}),
      taskQueue: buildQueue,
      identity: 'build-worker@test',
      activities: createActivities({
        home,
        cacheDir: TEST_CACHE_DIR,
        runnerFor: new RunnerSelector('host').runnerFor,
        secretSource: process.env,
      }),
    });
    const result = await buildWorker.runUntil(
      releaseWorker.runUntil(
        env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
          taskQueue,
          workflowId,
          args: [releaseInput(dir, pipelineStages(), { buildTaskQueue: buildQueue })],
        }),
      ),
    );
    assert.equal(result.outcome, 'succeeded');
    assert.match(result.status.artifact?.digest ?? '', /^sha256:/);

    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = new Map<string, { queue: string; stage: string }>();
    const startedBy = new Map<string, string>();
    for (const event of history.events ?? []) {
      const attrs = event.activityTaskScheduledEventAttributes;
      if (attrs && attrs.activityType?.name === 'runStage') {
        // The raw history: decoded by the codecs first when the suite runs encrypted.
        let payload: Payload | undefined = attrs.input?.payloads?.[0] ?? {};
        for (const codec of [...(testDataConverter()?.payloadCodecs ?? [])].reverse())
          if (payload) [payload] = await codec.decode([payload]);
        const input = JSON.parse(Buffer.from(payload?.data ?? []).toString()) as { plan: { name: string } };
        scheduled.set(String(event.eventId), {
          queue: attrs.taskQueue?.name ?? '',
          stage: input.plan.name,
        });
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started) startedBy.set(String(started.scheduledEventId), started.identity ?? '');
    }
    assert.equal(scheduled.size, 6, 'six command stages were scheduled');
    for (const [id, { queue, stage }] of scheduled) {
      const identity = startedBy.get(id) ?? '';
      if (stage === 'build-production-image') {
        assert.equal(queue, buildQueue, 'the build is scheduled on the build queue');
        assert.equal(identity, 'build-worker@test', 'the build worker ran the build');
      } else {
        assert.equal(queue, taskQueue, `${stage} stays on the release queue`);
        assert.notEqual(identity, 'build-worker@test', `${stage} did not run on the build worker`);
      }
    }
  });
});
