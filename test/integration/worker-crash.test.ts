/** The worker process killed with SIGKILL mid-stage: a new worker finishes the run, no completed stage runs twice. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { markers, pipelineStages, releaseInput, shStage } from '../support/stages.js';
import { spawnWorker, startTestServer, tempDir, uniqueIds, waitUntil } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
const workers: ChildProcess[] = [];
before(async () => {
  env = await startTestServer();
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await env?.teardown();
});

function startWorker(taskQueue: string, home: string): ChildProcess {
  const worker = spawnWorker(env, taskQueue, home);
  workers.push(worker);
  return worker;
}

it('a new worker finishes the run after the first is SIGKILLed during a long stage', async () => {
  const dir = tempDir('crash');
  const home = join(dir, 'home');
  const { taskQueue, workflowId } = uniqueIds('crash');
  const long = shStage('test-rag-engine', 'sleep 6');
  const quick = (name: string) => shStage(name, 'true');
  const stages = pipelineStages({
    'test-rag-engine': long,
    'test-stripe-integration': quick('test-stripe-integration'),
    'verify-revenue-metrics': quick('verify-revenue-metrics'),
  });
  const first = startWorker(taskQueue, home);
  const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
    taskQueue,
    workflowId,
    // A short heartbeat timeout: the server notices the dead worker in ~2 s.
    args: [releaseInput(dir, stages, { heartbeatTimeoutMs: 2000 })],
  });

  await waitUntil(
    () =>
      markers(dir, 'test-rag-engine').starts.length === 1 &&
      markers(dir, 'test-stripe-integration').ends.length === 1 &&
      markers(dir, 'verify-revenue-metrics').ends.length === 1,
    'the long stage to start after its siblings finished',
  );
  // A sibling's process having exited is not enough: its activity completion must have reached
  // the server, or the server rightly hands the activity out again (at-least-once). The status
  // query answers from the workflow's own state, which only moves once the completion is recorded.
  await waitUntil(async () => {
    const { stages: seen } = await handle.query(statusQuery);
    return (
      seen['test-stripe-integration']?.state === 'succeeded' &&
      seen['verify-revenue-metrics']?.state === 'succeeded'
    );
  }, 'the siblings to be recorded as completed');
  assert.equal(markers(dir, 'test-rag-engine').ends.length, 0, 'the long stage is still running');
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));

  startWorker(taskQueue, home);
  const result = await handle.result();
  assert.equal(result.outcome, 'succeeded');

  for (const stage of [
    'quick-health-check',
    'test-suite',
    'test-stripe-integration',
    'verify-revenue-metrics',
  ] as const) {
    assert.equal(
      markers(dir, stage).starts.length,
      1,
      `${stage} completed before the crash and did not run again`,
    );
  }
  const rag = markers(dir, 'test-rag-engine');
  assert.equal(rag.starts.length, 2, 'the interrupted stage ran again on the new worker');
  assert.equal(rag.ends.length, 1, "the dead worker's orphaned process was killed, not left to finish");
  assert.equal(result.status.stages['test-rag-engine']?.attempts, 2);
  assert.equal(markers(dir, 'build-production-image').starts.length, 1);
});
