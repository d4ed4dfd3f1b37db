/** `tollgate stats` through the real CLI against a dev server holding three finished fixture releases. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PipelineMetrics } from '../../src/stats/metrics.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { pipelineStages, releaseInput, shStage } from '../support/stages.js';
import { runCli, type CliResult } from '../support/cli.js';
import { createTestWorker, startTestServer, tempDir, uniqueIds, temporalEnv } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
const app = `stats-${Date.now().toString(36)}`;
const dir = tempDir('stats');

/** Runs `tollgate <args>` as a process against the test server. */
function cli(...args: string[]): Promise<CliResult> {
  return runCli(args, { ...process.env, ...temporalEnv(env), TOLLGATE_HOME: join(dir, 'home') });
}

before(async () => {
  env = await startTestServer();
  const { taskQueue, workflowId } = uniqueIds('stats');
  const worker = await createTestWorker(env, taskQueue, join(dir, 'home'));
  for (const sub of ['a', 'b', 'c']) mkdirSync(join(dir, sub));
  const failing = shStage('test-suite', 'echo "1 test failed"; exit 1');
  const inputs = [
    releaseInput(join(dir, 'a'), pipelineStages(), { app }),
    releaseInput(join(dir, 'b'), pipelineStages(), { app }),
    releaseInput(join(dir, 'c'), pipelineStages({ 'test-suite': failing }), { app }),
  ];
  const outcomes = await worker.runUntil(
    Promise.allSettled(
      inputs.map((input, i) =>
        env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
          taskQueue,
          workflowId: `${workflowId}-${i}`,
          args: [input],
        }),
      ),
    ),
  );
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected'],
  );
  // Visibility is eventually consistent: wait until the three closed runs are listed.
  const query = `WorkflowType = 'releasePipeline' AND ExecutionStatus != 'Running'`;
  for (let i = 0; (await env.client.workflow.count(query)).count < 3; i++) {
    assert.ok(i < 100, 'the runs show up in visibility within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
});
after(async () => {
  await env?.teardown();
});

describe('tollgate stats', () => {
  it('--json: success rate 2/3 and per-stage counts from the real runs', async () => {
    const { code, stdout, stderr } = await cli('stats', '--json', '--app', app);
    assert.equal(code, 0, stderr);
    const m = JSON.parse(stdout) as PipelineMetrics;
    assert.equal(m.app, app);
    assert.deepEqual(m.runs, {
      total: 3,
      finished: 3,
      running: 0,
      succeeded: 2,
      failed: 1,
      rolledBack: 0,
      cancelled: 0,
    });
    assert.deepEqual(m.successRate, { numerator: 2, denominator: 3, rate: 2 / 3 });
    assert.equal(m.summary.successRate, 2 / 3);
    // No environments in the fixture: nothing reached production.
    assert.deepEqual(m.deploymentFrequency, { deployments: 0, days: 7, perDay: 0 });
    assert.equal(m.changeFailureRate.rate, null);
    const counts = Object.fromEntries(
      m.stages.map((s) => [s.stage, [s.succeeded, s.failed, s.skipped, s.count]]),
    );
    assert.deepEqual(counts, {
      'quick-health-check': [3, 0, 0, 3],
      'test-suite': [2, 1, 0, 3],
      'test-stripe-integration': [2, 0, 1, 2],
      'test-rag-engine': [2, 0, 1, 2],
      'verify-revenue-metrics': [2, 0, 1, 2],
      'build-production-image': [2, 0, 1, 2],
    });
    // The revenue gates sleep 1 s each.
    const rag = m.stages.find((s) => s.stage === 'test-rag-engine')!;
    assert.ok(rag.p50Ms! >= 1000 && rag.p95Ms! >= rag.p50Ms!, JSON.stringify(rag));
    assert.equal(m.pipelineTime.count, 3);
    assert.ok(m.summary.averagePipelineTimeMs! > 1000);
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(
      m.daily.find((d) => d.date === today),
      { date: today, succeeded: 2, failed: 1, rolledBack: 0, cancelled: 0 },
    );
  });

  it('prints a table and writes the HTML report', async () => {
    const html = join(dir, 'stats.html');
    const table = await cli('stats', '--app', app, '--html', html);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /success rate\s+66\.7 %\s+2 of 3 finished runs/);
    assert.match(table.stdout, /test-suite\s+2\s+1\s+0/);
    assert.match(table.stdout, /HTML report written to/);
    const page = readFileSync(html, 'utf8');
    assert.ok(page.includes('66.7 %') && page.includes('<svg xmlns="http://www.w3.org/2000/svg"'));

    const bad = await cli('stats', '--since', 'forever');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since forever is not a duration/);
  });

  it('counts a terminated run as cancelled and one in flight as running, per app', async () => {
    const other = `${app}-other`;
    const { taskQueue, workflowId } = uniqueIds('stats-other');
    // No worker polls this queue: the runs never leave their first workflow task.
    const start = (suffix: string) =>
      env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId: `${workflowId}-${suffix}`,
        args: [releaseInput(join(dir, 'a'), pipelineStages(), { app: other })],
      });
    const terminated = await start('terminated');
    await start('running');
    await terminated.terminate('stats test');
    const query = `WorkflowType = 'releasePipeline' AND ExecutionStatus = 'Terminated'`;
    for (let i = 0; (await env.client.workflow.count(query)).count < 1; i++) {
      assert.ok(i < 100, 'the terminated run shows up in visibility within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { code, stdout, stderr } = await cli('stats', '--json', '--app', other);
    assert.equal(code, 0, stderr);
    const m = JSON.parse(stdout) as PipelineMetrics;
    assert.deepEqual(m.runs, {
      total: 2,
      finished: 1,
      running: 1,
      succeeded: 0,
      failed: 0,
      rolledBack: 0,
      cancelled: 1,
    });
    assert.deepEqual(m.successRate, { numerator: 0, denominator: 1, rate: 0 });
    assert.ok(
      m.notes.some((n) => n.includes(`${workflowId}-terminated (TERMINATED)`)),
      m.notes.join('\n'),
    );
    assert.equal(m.notes.filter((n) => n.includes(app) && !n.includes(other)).length, 0);

    const none = await cli('stats', '--json', '--from', '2000-01-01', '--to', '2001-01-01');
    assert.equal(none.code, 0, none.stderr);
    assert.equal((JSON.parse(none.stdout) as PipelineMetrics).runs.total, 0);
  });
});
