/**
 * /metrics over real HTTP after releases on a real dev server (one of them through real local
 * environments of the sample app, rolled back at the gate); the Runtime's log lines carry run ids.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime } from '@temporalio/worker';
import { freePort } from '../../src/environments/local/net.js';
import { FailureType } from '../../src/failures.js';
import { createLogger } from '../../src/observability/logging.js';
import { METRICS } from '../../src/observability/metrics.js';
import { installRuntime } from '../../src/observability/runtime.js';
import type { ReleaseStatus } from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { rollbackUpdate } from '../../src/workflows/messages.js';
import {
  APP_SECRETS,
  buildSampleApp,
  sampleChain,
  sampleCommit,
  sampleInput,
  stopSampleEnvironments,
  waitForPhase,
} from '../support/delivery.js';
import { pipelineStages, releaseInput, shStage } from '../support/stages.js';
import { createTestWorker, quietRuntime, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

/** Every line the Runtime's logger wrote; WARN and above are echoed to stderr as the other tests do. */
const lines: Record<string, unknown>[] = [];
const logger = createLogger({
  secrets: {},
  destination: {
    write: (line: string) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.level === 'warn' || entry.level === 'error') process.stderr.write(line);
    },
  },
});

let env: TestWorkflowEnvironment;
let metricsAddress: string;
const runIds: { succeeded: string; failed: string; rolledBack: string } = {
  succeeded: '',
  failed: '',
  rolledBack: '',
};
/** The home and task queue of the release with environments (its environments are stopped after the file). */
let deliveryHome = '';
let deliveryTaskQueue = '';

before(async () => {
  metricsAddress = `127.0.0.1:${await freePort()}`;
  quietRuntime(() => {
    const installed = installRuntime({ logger, metricsAddress });
    assert.equal(installed.metricsAddress, metricsAddress, 'the exporter listens where asked');
  });
  env = await startTestServer();

  // One release that passes and one whose test suite fails: both stop after test-suite.
  const [passingDir, failingDir] = [tempDir('metrics-ok'), tempDir('metrics-fail')];
  const { taskQueue, workflowId } = uniqueIds('metrics');
  const worker = await createTestWorker(env, taskQueue, join(passingDir, 'home'));
  await worker.runUntil(async () => {
    const passing = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId: `${workflowId}-ok`,
      args: [releaseInput(passingDir, pipelineStages(), { until: 'test-suite' })],
    });
    assert.equal((await passing.result()).outcome, 'succeeded');
    runIds.succeeded = passing.firstExecutionRunId;

    const failingStages = pipelineStages({ 'test-suite': shStage('test-suite', 'exit 1') });
    const failing = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId: `${workflowId}-fail`,
      args: [releaseInput(failingDir, failingStages, { until: 'test-suite' })],
    });
    await assert.rejects(failing.result(), WorkflowFailedError);
    runIds.failed = failing.firstExecutionRunId;
  });

  // A release of the sample app into real local staging, rolled back at the gate by an operator:
  // staging is restored, so it counts as a rollback (reason operator) with a time to restore.
  await buildSampleApp();
  const deliveryDir = tempDir('metrics-rollback');
  deliveryHome = join(deliveryDir, 'home');
  deliveryTaskQueue = `${taskQueue}-delivery`;
  const chain = await sampleChain({
    promotion: { mode: 'manual', approvers: ['alice'], timeoutMs: 300_000, onTimeout: 'rollback' },
  });
  const deliveryWorker = await createTestWorker(env, deliveryTaskQueue, deliveryHome, {
    secretSource: { ...process.env, ...APP_SECRETS },
  });
  await deliveryWorker.runUntil(async () => {
    const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
      taskQueue: deliveryTaskQueue,
      workflowId: `${workflowId}-rollback`,
      args: [sampleInput(sampleCommit(join(deliveryDir, 'repo')), chain)],
    });
    await waitForPhase(handle, 'awaiting-promotion');
    await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', reason: 'not today' }] });
    const error = await handle.result().then(
      () => assert.fail('a rolled-back release does not succeed'),
      (e: unknown) => e,
    );
    assert.ok(
      error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure,
      String(error),
    );
    assert.equal(error.cause.type, FailureType.RolledBack);
    const status = error.cause.details?.[0] as ReleaseStatus;
    assert.deepEqual(
      status.compensations.map((c) => [c.name, c.ok]),
      [
        ['restore staging', true],
        ['discard artifact', true],
      ],
    );
    runIds.rolledBack = handle.firstExecutionRunId;
  });
  Runtime.instance().flushLogs(); // the Runtime buffers lines ~100 ms to order them
});
after(async () => {
  if (deliveryHome) await stopSampleEnvironments([deliveryHome]);
  await env?.teardown();
});

/** Polls the status query until the run waits at the promotion gate; fails if the run ends first. */
/** One sample of the Prometheus text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** GETs /metrics and parses the samples (comment lines dropped). */
async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(`http://${metricsAddress}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  const samples = text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line): Sample => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
        labels[key!] = value!;
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
  return { text, samples };
}

/** The sum of the samples named `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('metrics', () => {
  it("serves the SDK's metrics", async () => {
    const { samples } = await scrape();
    assert.ok(total(samples, 'temporal_workflow_completed', { workflow_type: 'releasePipeline' }) >= 1);
    assert.ok(total(samples, 'temporal_workflow_failed', { workflow_type: 'releasePipeline' }) >= 1);
    assert.ok(
      total(samples, 'temporal_activity_execution_latency_count', { activity_type: 'runStage' }) >= 3,
    );
  });

  it('serves the stage duration histogram by stage and outcome, in seconds', async () => {
    const { text, samples } = await scrape();
    assert.match(text, new RegExp(`^# TYPE ${METRICS.stageDuration} histogram$`, 'm'));
    const count = `${METRICS.stageDuration}_count`;
    assert.equal(total(samples, count, { stage: 'quick-health-check', outcome: 'succeeded' }), 2);
    assert.equal(total(samples, count, { stage: 'test-suite', outcome: 'succeeded' }), 1);
    assert.equal(total(samples, count, { stage: 'test-suite', outcome: 'failed' }), 1, 'not retried');
    // The SDK tags what activities record with camelCase keys (Core's own metrics use activity_type).
    assert.equal(total(samples, count, { stage: 'test-suite', activityType: 'runStage' }), 2);
    const seconds = total(samples, `${METRICS.stageDuration}_sum`, { stage: 'test-suite' });
    assert.ok(seconds > 0 && seconds < 30, `two tiny stages took ${seconds} s, not milliseconds`);
    // Tollgate's buckets (seconds), not the exporter's millisecond defaults.
    assert.ok(samples.some((s) => s.name === `${METRICS.stageDuration}_bucket` && s.labels.le === '0.5'));
  });

  // Needs deploy.ts to call recordReleaseOutcome (src/workflows/metrics.ts) where the run ends.
  it('counts releases by outcome', async () => {
    const { samples } = await scrape();
    assert.equal(total(samples, METRICS.releases, { outcome: 'succeeded' }), 1);
    assert.equal(total(samples, METRICS.releases, { outcome: 'failed' }), 1);
    assert.equal(total(samples, METRICS.releases, { outcome: 'rolled-back' }), 1);
    // The series is the rolled-back run's (the workflow meter tags task queue and workflow type).
    assert.equal(
      total(samples, METRICS.releases, {
        outcome: 'rolled-back',
        taskQueue: deliveryTaskQueue,
        workflowType: 'releasePipeline',
      }),
      1,
    );
  });

  // Needs deploy.ts to call recordRollback when compensation restored an environment.
  it('counts an operator rollback at the gate and how long staging took to restore', async () => {
    const { text, samples } = await scrape();
    const rollbacks = total(samples, METRICS.rollbacks, { reason: 'operator' });
    assert.ok(rollbacks >= 1, `${METRICS.rollbacks}{reason="operator"} is ${rollbacks}`);
    assert.equal(total(samples, METRICS.rollbacks, { reason: 'operator', taskQueue: deliveryTaskQueue }), 1);
    assert.equal(
      total(samples, METRICS.rollbacks),
      total(samples, METRICS.rollbacks, { reason: 'operator' }),
      'the only rollback in this file is the operator one',
    );
    assert.match(text, new RegExp(`^# TYPE ${METRICS.timeToRestore} histogram$`, 'm'));
    const count = total(samples, `${METRICS.timeToRestore}_count`, { reason: 'operator' });
    assert.ok(count >= 1, `${METRICS.timeToRestore}_count{reason="operator"} is ${count}`);
    // Every restore falls in some bucket: the +Inf bucket holds them all.
    assert.equal(
      total(samples, `${METRICS.timeToRestore}_bucket`, { reason: 'operator', le: '+Inf' }),
      count,
    );
    const seconds = total(samples, `${METRICS.timeToRestore}_sum`, { reason: 'operator' });
    assert.ok(seconds >= 0 && Number.isFinite(seconds), `restoring took ${seconds} s`);
  });
});

describe('runtime log lines', () => {
  it('carry runId and workflowId on every workflow and activity line', () => {
    const scoped = lines.filter((l) => l.sdkComponent === 'workflow' || l.sdkComponent === 'activity');
    for (const component of ['workflow', 'activity']) {
      assert.ok(
        scoped.some((l) => l.sdkComponent === component),
        `some ${component} lines: ${JSON.stringify(lines.slice(0, 5))}`,
      );
    }
    for (const line of scoped) {
      assert.ok(
        [runIds.succeeded, runIds.failed, runIds.rolledBack].includes(line.runId as string),
        JSON.stringify(line),
      );
      assert.match(String(line.workflowId), /^test-metrics-/);
      assert.equal(line.workflowRunId, undefined, 'one name for the run id');
      assert.equal(line.taskToken, undefined);
    }
    // The worker's own lines about a run (Activity failed, Workflow failed) carry them too.
    for (const line of lines.filter((l) => l.workflowId !== undefined)) {
      assert.ok(typeof line.runId === 'string' && line.runId, JSON.stringify(line));
    }
    const stageFailed = scoped.find((l) => l.msg === 'stage failed');
    assert.equal(stageFailed?.runId, runIds.failed, 'the activity line names the run it belongs to');
    assert.ok(lines.every((l) => typeof l.time === 'number' && typeof l.level === 'string'));
  });
});
