/**
 * The main job end to end, through the real CLI and worker processes: the sample app to
 * production, the release lane, promote and rollback commands, history, and worker crashes
 * during the production switch and the verification window.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStatus, stopEnvironment } from '../../src/environments/local/index.js';
import { STAGE_NAMES } from '../../src/constants.js';
import type { ReleasePhase } from '../../src/types.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { buildSampleApp } from '../support/delivery.js';
import { startTestServer, tempDir, uniqueIds } from '../support/temporal.js';
import { Scenario, writeConfig } from './cli.js';

let env: TestWorkflowEnvironment;
const scenarios: Scenario[] = [];
before(async () => {
  buildSampleApp();
  env = await startTestServer();
});
after(async () => {
  for (const s of scenarios) {
    await s.killWorkers();
    for (const name of ['staging', 'production']) await stopEnvironment(s.home, name).catch(() => undefined);
  }
  await env?.teardown();
});

async function scenario(label: string, options: Parameters<typeof writeConfig>[1]): Promise<Scenario> {
  const dir = tempDir(label);
  const s = new Scenario(env, join(dir, 'home'), uniqueIds(label).taskQueue, await writeConfig(dir, options));
  scenarios.push(s);
  return s;
}

async function waitForPhase(workflowId: string, phase: ReleasePhase): Promise<void> {
  const handle = env.client.workflow.getHandle(workflowId);
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.phase === phase) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('tollgate end to end', () => {
  it('releases the sample app through every stage to production (tollgate run --wait)', async () => {
    const s = await scenario('e2e-full', { fullStages: true, promotion: 'auto' });
    s.startWorker();
    const summaryFile = join(s.home, '..', 'step-summary.md');
    const run = await s.cliWith(
      { GITHUB_STEP_SUMMARY: summaryFile },
      'run',
      '-c',
      s.configPath,
      '--wait',
      '--ref',
      'e2e0001',
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    for (const stage of STAGE_NAMES) {
      assert.match(run.stdout, new RegExp(`✓ ${stage}`), `${stage} succeeded`);
    }
    assert.match(run.stdout, /✓ release succeeded: release-saas-app/);
    assert.match(run.stdout, /http:\/\/localhost:8233\/namespaces\/default\/workflows\/release-saas-app\//);
    const summary = readFileSync(summaryFile, 'utf8');
    assert.match(summary, /### Tollgate: saas-app @ `e2e0001` — succeeded/);
    assert.match(summary, /\| test-suite \| succeeded \| 1 \| [\d.]+ s \|/);
    assert.match(summary, /\[release-saas-app in the Temporal UI\]\(http:\/\/localhost:8233\//);
    const production = await environmentStatus(s.home, 'production');
    assert.match(production.current ?? '', /^saas-app-e2e0001-/);
    const health = await fetch(`${production.url}/healthz`);
    assert.equal(health.status, 200);
  });

  it('holds the lane: a second run is refused naming the holder; --queue runs after; promote and history', async () => {
    const s = await scenario('e2e-lane', { fullStages: false, promotion: 'manual' });
    s.startWorker();
    const first = s.cli('run', '-c', s.configPath, '--wait', '--ref', 'lane001');
    await waitForPhase('release-saas-app', 'awaiting-promotion');

    const refused = await s.cli('run', '-c', s.configPath, '--ref', 'lane002');
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(
      refused.stderr,
      /release lane is held by release-saas-app \(run [0-9a-f-]+, saas-app @ lane001, phase awaiting-promotion/,
    );
    assert.match(refused.stderr, /--queue/);

    const queued = s.cli(
      'run',
      '-c',
      s.configPath,
      '--wait',
      '--queue',
      '--auto-promote',
      '--ref',
      'lane003',
    );
    const notApprover = await s.cli('promote', 'release-saas-app', '--by', 'mallory');
    assert.equal(notApprover.code, 2);
    assert.match(notApprover.stderr, /promote refused: mallory is not an approver/);
    const missingBy = await s.cli('promote', 'release-saas-app');
    assert.equal(missingBy.code, 2);

    const promoted = await s.cli('promote', 'release-saas-app', '--by', 'alice', '--reason', 'looks good');
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal((await first).code, 0);
    const second = await queued;
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stderr, /Waiting for the release lane, held by release-saas-app/);
    assert.match((await environmentStatus(s.home, 'production')).current ?? '', /^saas-app-lane003-/);

    const history = await s.cli('history', '--json');
    const rows = JSON.parse(history.stdout) as { ref: string; outcome: string; promotedBy: string | null }[];
    // The server is shared with the other scenarios: keep this one's releases.
    assert.deepEqual(
      rows.filter((r) => r.ref.startsWith('lane')).map((r) => [r.ref, r.outcome, r.promotedBy]),
      [
        ['lane003', 'succeeded', 'tollgate'],
        ['lane001', 'succeeded', 'alice'],
      ],
    );

    const rollback = await s.cli(
      'rollback',
      '--env',
      'production',
      '--by',
      'alice',
      '--reason',
      'revert lane003',
      '-c',
      s.configPath,
    );
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match((await environmentStatus(s.home, 'production')).current ?? '', /^saas-app-lane001-/);
    const finished = await s.cli('promote', 'release-saas-app', '--by', 'alice');
    assert.equal(finished.code, 2);
    assert.match(finished.stderr, /has finished/);
  });

  for (const phase of ['production', 'verifying'] as const) {
    it(`a worker SIGKILLed in phase ${phase} is replaced and the run ends with exactly one release serving`, async () => {
      const s = await scenario(`e2e-kill-${phase}`, {
        fullStages: false,
        promotion: 'auto',
        verification: '4s',
      });
      s.startWorker();
      const first = await s.cli('run', '-c', s.configPath, '--wait', '--ref', 'kill001');
      assert.equal(first.code, 0, first.stderr);
      const run = s.cli('run', '-c', s.configPath, '--wait', '--ref', 'kill002');
      await waitForPhase('release-saas-app', phase);
      await s.killWorkers();
      s.startWorker();
      const result = await run;
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const production = await environmentStatus(s.home, 'production');
      assert.match(production.current ?? '', /^saas-app-kill002-/);
      const alive = production.releases.filter((r) => r.alive).map((r) => r.releaseId);
      assert.deepEqual(alive, [production.current], 'exactly one release runs in production');
    });
  }
});
