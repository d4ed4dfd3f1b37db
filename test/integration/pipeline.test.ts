/** The release pipeline on a real dev server with real child processes: order, parallelism, retries, failures, cancellation. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FailureType } from '../../src/failures.js';
import { StageSlots } from '../../src/runners/slots.js';
import type { ReleaseStatus } from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { queryStatus } from '../../src/cli/runs.js';
import {
  groupAlive,
  markers,
  processAlive,
  pipelineStages,
  releaseInput,
  REVENUE_GATES,
  shStage,
} from '../support/stages.js';

const COMMAND_STAGES = pipelineStages().map((s) => s.name);
import { createTestWorker, recordHistory, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.teardown();
});

describe('releasePipeline', () => {
  it('runs every stage once, in order, with the revenue gates overlapping', async () => {
    const dir = tempDir('happy');
    const { taskQueue, workflowId } = uniqueIds('happy');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'));
    const result = await worker.runUntil(
      env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId,
        args: [releaseInput(dir, pipelineStages())],
      }),
    );
    assert.equal(result.outcome, 'succeeded');
    for (const stage of COMMAND_STAGES) {
      assert.equal(markers(dir, stage).starts.length, 1, `${stage} ran once`);
      assert.equal(result.status.stages[stage]?.state, 'succeeded');
      assert.equal(result.status.stages[stage]?.attempts, 1);
    }
    const start = (s: string): number => markers(dir, s).starts[0]!;
    const end = (s: string): number => markers(dir, s).ends[0]!;
    assert.ok(end('quick-health-check') <= start('test-suite'), 'health before tests');
    for (const gate of REVENUE_GATES) {
      assert.ok(end('test-suite') <= start(gate), `tests before ${gate}`);
      assert.ok(end(gate) <= start('build-production-image'), `${gate} before the build`);
    }
    // Overlap: every gate started before any gate ended (each sleeps 1 s).
    const latestStart = Math.max(...REVENUE_GATES.map(start));
    const earliestEnd = Math.min(...REVENUE_GATES.map(end));
    assert.ok(
      latestStart < earliestEnd,
      `revenue gates overlap (last start ${latestStart}, first end ${earliestEnd})`,
    );
    const artifact = result.status.artifact;
    assert.ok(artifact, 'the build reports its artifact');
    assert.match(artifact.digest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(artifact.sbomPath && readFileSync(artifact.sbomPath, 'utf8').includes('{}'));
    recordHistory(env, workflowId, 'release-succeeded');
  });

  it('with one CPU slot, heavy stages of a parallel group take turns while a light one runs beside them', async () => {
    const dir = tempDir('slots');
    const { taskQueue, workflowId } = uniqueIds('slots');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'), {
      stageSlots: new StageSlots(1),
    });
    const light = shStage('test-rag-engine', 'sleep 1', { load: 'light' });
    const result = await worker.runUntil(
      env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId,
        args: [releaseInput(dir, pipelineStages({ 'test-rag-engine': light }))],
      }),
    );
    assert.equal(result.outcome, 'succeeded');
    const span = (s: string): [number, number] => [markers(dir, s).starts[0]!, markers(dir, s).ends[0]!];
    const [stripe, revenue, rag] = [
      span('test-stripe-integration'),
      span('verify-revenue-metrics'),
      span('test-rag-engine'),
    ];
    const overlap = (a: [number, number], b: [number, number]): boolean => a[0] < b[1] && b[0] < a[1];
    assert.ok(
      !overlap(stripe, revenue),
      `the heavy gates took turns (${stripe.join('–')}, ${revenue.join('–')})`,
    );
    assert.ok(
      overlap(rag, stripe) || overlap(rag, revenue),
      `the light gate ran beside them (${rag.join('–')})`,
    );
  });

  it('retries a stage killed by a signal and succeeds on the third attempt', async () => {
    const dir = tempDir('retry');
    const { taskQueue, workflowId } = uniqueIds('retry');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'));
    const flaky = shStage(
      'test-rag-engine',
      `n=$(cat "${dir}/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${dir}/count"; if [ $n -lt 3 ]; then kill -9 $$; fi`,
    );
    const result = await worker.runUntil(
      env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId,
        args: [releaseInput(dir, pipelineStages({ 'test-rag-engine': flaky }))],
      }),
    );
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.status.stages['test-rag-engine']?.attempts, 3);
    assert.equal(readFileSync(join(dir, 'count'), 'utf8').trim(), '3');
  });

  it('retries an exit code the config names as retryable', async () => {
    const dir = tempDir('retry-code');
    const { taskQueue, workflowId } = uniqueIds('retry-code');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'));
    const flaky = shStage(
      'test-stripe-integration',
      `n=$(cat "${dir}/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${dir}/count"; [ $n -ge 2 ] || exit 75`,
      { retryableExitCodes: [75] },
    );
    const result = await worker.runUntil(
      env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId,
        args: [releaseInput(dir, pipelineStages({ 'test-stripe-integration': flaky }))],
      }),
    );
    assert.equal(result.status.stages['test-stripe-integration']?.attempts, 2);
  });

  it('does not retry a failing test, skips what follows, and names the stage and type', async () => {
    const dir = tempDir('fail');
    const { taskQueue, workflowId } = uniqueIds('fail');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'));
    const failing = shStage('test-suite', 'echo "1 test failed: checkout rejects negative amounts"; exit 1');
    const error = await worker.runUntil(
      env.client.workflow
        .execute<ReleaseWorkflow>('releasePipeline', {
          taskQueue,
          workflowId,
          args: [releaseInput(dir, pipelineStages({ 'test-suite': failing }))],
        })
        .then(
          () => assert.fail('the run should fail'),
          (e: unknown) => e,
        ),
    );
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, FailureType.StepFailed);
    assert.match(error.cause.message, /stage test-suite failed \[StepFailed\]/);
    assert.match(error.cause.message, /exited with 1/);
    assert.equal(markers(dir, 'test-suite').starts.length, 1, 'a failing test is not retried');
    for (const later of [...REVENUE_GATES, 'build-production-image']) {
      assert.equal(markers(dir, later).starts.length, 0, `${later} never ran`);
    }
    const status = error.cause.details?.[0] as ReleaseStatus;
    assert.equal(status.phase, 'failed');
    assert.equal(status.stages['test-suite']?.state, 'failed');
    assert.equal(status.stages['test-suite']?.attempts, 1);
    assert.equal(status.stages['build-production-image']?.state, 'skipped');
    recordHistory(env, workflowId, 'release-failed');
  });

  it('cancels the sibling gates when one gate fails, and stops their processes', async () => {
    const dir = tempDir('sibling');
    const { taskQueue, workflowId } = uniqueIds('sibling');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'));
    const slow = shStage('test-rag-engine', `echo $$ > "${dir}/rag.pgid"; sleep 60`);
    const failing = shStage(
      'verify-revenue-metrics',
      `until [ -f "${dir}/rag.pgid" ]; do sleep 0.1; done; exit 1`,
    );
    const error = await worker.runUntil(
      env.client.workflow
        .execute<ReleaseWorkflow>('releasePipeline', {
          taskQueue,
          workflowId,
          args: [
            releaseInput(dir, pipelineStages({ 'test-rag-engine': slow, 'verify-revenue-metrics': failing })),
          ],
        })
        .catch((e: unknown) => e),
    );
    assert.ok(error instanceof WorkflowFailedError);
    assert.match(String(error.cause?.message), /verify-revenue-metrics/);
    const pgid = Number(readFileSync(join(dir, 'rag.pgid'), 'utf8'));
    assert.equal(groupAlive(pgid), false, 'the cancelled sibling gate has no process left');
    const status = (error.cause as ApplicationFailure).details?.[0] as ReleaseStatus;
    assert.equal(status.stages['test-rag-engine']?.state, 'skipped');
  });

  it('cancellation stops the running stage process group and ends the run cancelled', async () => {
    const dir = tempDir('cancel');
    const { taskQueue, workflowId } = uniqueIds('cancel');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'));
    const slow = shStage(
      'test-rag-engine',
      `sleep 300 & echo $! > "${dir}/child.pid"; echo $$ > "${dir}/rag.pgid"; wait`,
    );
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId,
        args: [releaseInput(dir, pipelineStages({ 'test-rag-engine': slow }))],
      });
      while (markers(dir, 'test-rag-engine').starts.length === 0)
        await new Promise((r) => setTimeout(r, 100));
      await handle.cancel();
      const error = await handle.result().catch((e: unknown) => e);
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof CancelledFailure, 'the run ends cancelled');
      const status = await queryStatus(handle);
      assert.equal(status.phase, 'cancelled');
      assert.equal(status.stages['build-production-image']?.state, 'skipped');
    });
    const pgid = Number(readFileSync(join(dir, 'rag.pgid'), 'utf8'));
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    assert.equal(groupAlive(pgid), false, 'the stage process group is gone');
    assert.equal(processAlive(child), false, 'its background child is gone too');
    recordHistory(env, workflowId, 'release-cancelled');
  });

  it('stops after the stage named by until', async () => {
    const dir = tempDir('until');
    const { taskQueue, workflowId } = uniqueIds('until');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'));
    const result = await worker.runUntil(
      env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId,
        args: [releaseInput(dir, pipelineStages(), { until: 'test-suite' })],
      }),
    );
    assert.equal(result.outcome, 'succeeded');
    assert.equal(markers(dir, 'test-suite').starts.length, 1);
    assert.equal(markers(dir, 'build-production-image').starts.length, 0);
    assert.equal(
      result.status.stages['build-production-image']?.state,
      'skipped',
      'stages after --until are skipped',
    );
  });
});
