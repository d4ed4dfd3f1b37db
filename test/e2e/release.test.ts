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
import { environmentStatus } from '../../src/environments/local/index.js';
import { queryStatus } from '../../src/cli/runs.js';
import { FINAL_PHASES, type ReleasePhase } from '../../src/types.js';
import { buildSampleApp } from '../support/delivery.js';
import { startTestServer, tempDir, uniqueIds } from '../support/temporal.js';
import { Scenario, type ScenarioOptions } from './cli.js';
import { parseCliJson } from '../../src/cli/json-schemas.js';

/** Every status entry of the sample's full pipeline: its six stages, then staging's and production's steps. */
const ALL_STAGES = [
  'quick-health-check',
  'test-suite',
  'test-stripe-integration',
  'test-rag-engine',
  'verify-revenue-metrics',
  'build-production-image',
  'deploy-to-staging',
  'smoke-test-staging',
  'deploy-to-production',
];

let env: TestWorkflowEnvironment;
const scenarios: Scenario[] = [];
before(async () => {
  await buildSampleApp();
  env = await startTestServer();
});
after(async () => {
  for (const s of scenarios) await s.stop();
  await env?.teardown();
});

async function scenario(label: string, options: ScenarioOptions): Promise<Scenario> {
  const s = new Scenario(env, tempDir(label), uniqueIds(label).taskQueue);
  await s.init(options, 'e2e-first');
  scenarios.push(s);
  return s;
}

/** Waits until the run is in `phase` (in `environment`, when given). */
/** Waits until the lane's run of `commit` is in `phase` (in `environment`); fails if that run ends first. */
async function waitForPhase(
  workflowId: string,
  commit: string,
  phase: ReleasePhase,
  environment?: string,
): Promise<void> {
  const handle = env.client.workflow.getHandle(workflowId);
  for (;;) {
    const status = await queryStatus(handle).catch(() => undefined);
    if (status?.source.commit === commit) {
      if (status.phase === phase && (!environment || status.environment === environment)) return;
      if ((FINAL_PHASES as readonly string[]).includes(status.phase))
        throw new Error(
          `the run of ${commit} ended ${status.phase} before it was ${phase} in ${environment ?? 'any environment'}`,
        );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('tollgate end to end', () => {
  it('releases the sample app through every stage to production (tollgate run --wait)', async () => {
    const s = await scenario('e2e-full', { fullStages: true, promotion: 'auto' });
    const commit = s.commit('e2e0001');
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
    for (const stage of ALL_STAGES) {
      assert.match(run.stdout, new RegExp(`✓ ${stage}`), `${stage} succeeded`);
    }
    assert.match(run.stdout, /✓ release succeeded: release-saas-app/);
    assert.match(run.stdout, /http:\/\/localhost:8233\/namespaces\/default\/workflows\/release-saas-app\//);
    const summary = readFileSync(summaryFile, 'utf8');
    assert.ok(summary.includes(`### Tollgate: saas-app @ \`${commit.slice(0, 12)}\` — succeeded`), summary);
    assert.match(
      summary,
      /\| \[test-suite\]\(http:\/\/localhost:8233\/[^)]+\) \| succeeded \| 1 \| [\d.]+ s \|/,
    );
    assert.match(summary, /\[release-saas-app in the Temporal UI\]\(http:\/\/localhost:8233\//);
    const production = await environmentStatus(s.home, { app: 'saas-app', name: 'production' });
    assert.ok(production.current?.startsWith(`saas-app-${commit.slice(0, 7)}-`), production.current ?? '');
    const health = await fetch(`${production.url}/healthz`);
    assert.equal(health.status, 200);
  });

  it('holds the lane: a second run is refused naming the holder; --queue runs after; promote and history', async () => {
    const s = await scenario('e2e-lane', { fullStages: false, promotion: 'manual' });
    const lane = ['lane001', 'lane002', 'lane003'].map((label) => s.commit(label));
    s.startWorker();
    const first = s.cli('run', '-c', s.configPath, '--wait', '--ref', 'lane001');
    await waitForPhase('release-saas-app', lane[0]!, 'awaiting-promotion');

    const refused = await s.cli('run', '-c', s.configPath, '--ref', 'lane002');
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `release lane is held by release-saas-app \\(run [0-9a-f-]+, saas-app @ ${lane[0]!.slice(0, 12)}, phase awaiting-promotion`,
      ),
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
    // The refused promote is on record with who asked and why, in the trail the worker writes.
    const trail = readFileSync(join(s.home, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; by: string; outcome: string; reason: string });
    assert.ok(
      trail.some(
        (e) =>
          e.action === 'promote' &&
          e.by === 'mallory' &&
          e.outcome === 'refused' &&
          /mallory is not an approver/.test(e.reason),
      ),
      JSON.stringify(trail),
    );
    const second = await queued;
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stderr, /Waiting for the release lane, held by release-saas-app/);
    assert.ok((await s.serving('production'))?.startsWith(`saas-app-${lane[2]!.slice(0, 7)}-`));

    const history = await s.cli('history', '--json');
    const { runs: rows } = parseCliJson('history', history.stdout) as unknown as {
      runs: { commit: string; outcome: string; promotedBy: string | null }[];
    };
    // The server is shared with the other scenarios: keep this one's releases.
    assert.deepEqual(
      rows.filter((r) => lane.includes(r.commit)).map((r) => [r.commit, r.outcome, r.promotedBy]),
      [
        [lane[2], 'succeeded', 'tollgate'],
        [lane[0], 'succeeded', 'alice'],
      ],
    );

    const stranger = await s.cli(
      'rollback',
      '--env',
      'production',
      '--by',
      'mallory',
      '--reason',
      'let me in',
      '-c',
      s.configPath,
    );
    assert.equal(stranger.code, 2, stranger.stdout + stranger.stderr);
    assert.match(stranger.stderr, /rollback refused: mallory is not an approver of saas-app/);
    assert.match(
      readFileSync(join(s.home, 'audit.jsonl'), 'utf8'),
      /"action":"rollback","by":"mallory".*"outcome":"refused"/,
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
    assert.match(rollback.stdout, /✓ production rolled back: saas-app-/);
    assert.ok((await s.serving('production'))?.startsWith(`saas-app-${lane[0]!.slice(0, 7)}-`));
    // A second rollback finds nothing to do: it says so, and moves nothing.
    const again = await s.cli(
      'rollback',
      '--env',
      'production',
      '--by',
      'alice',
      '--reason',
      'revert lane003 again',
      '--json',
      '-c',
      s.configPath,
    );
    assert.equal(again.code, 0, again.stderr);
    const repeat = parseCliJson('rollback', again.stdout) as unknown as {
      workflowId: string;
      changed: boolean;
      to: string;
    };
    assert.equal(repeat.changed, false);
    assert.match(repeat.workflowId, /^rollback-saas-app-production-/);
    assert.ok(repeat.to.startsWith(`saas-app-${lane[0]!.slice(0, 7)}-`));
    assert.ok((await s.serving('production'))?.startsWith(`saas-app-${lane[0]!.slice(0, 7)}-`));

    // From here on no worker runs: closed runs are read from their history alone.
    await s.killWorkers();
    // The rollbacks ran under their own ids: the lane still shows the last release.
    const status = await s.cli('status', 'release-saas-app', '--json');
    assert.equal(status.code, 0, status.stderr);
    const last = parseCliJson('status', status.stdout) as unknown as {
      phase: string;
      source: { commit: string };
    };
    assert.deepEqual([last.phase, last.source.commit], ['succeeded', lane[2]]);
    const watched = await s.cli('watch', 'release-saas-app');
    assert.equal(watched.code, 0, watched.stdout + watched.stderr);
    assert.match(watched.stdout, /✓ release succeeded/);

    const after = parseCliJson(
      'history',
      (await s.cli('history', '--json', '--app', 'saas-app')).stdout,
    ) as unknown as {
      runs: { kind: string; outcome: string; environment: string | null }[];
    };
    assert.deepEqual(
      after.runs.filter((r) => r.kind === 'rollback').map((r) => [r.environment, r.outcome]),
      [
        ['production', 'unchanged'],
        ['production', 'rolled-back'],
        ['production', 'refused'],
      ],
    );
    const stats = parseCliJson(
      'stats',
      (await s.cli('stats', '--json', '--app', 'saas-app')).stdout,
    ) as unknown as {
      changeFailureRate: { reverted: number };
      timeToRestore: { count: number };
    };
    assert.equal(stats.changeFailureRate.reverted, 1, 'the reverted release is a change failure, once');
    assert.ok(stats.timeToRestore.count >= 1);

    // A CI step that promotes again after the release moved on is told who did, and succeeds...
    const finished = await s.cli('promote', 'release-saas-app', '--by', 'alice');
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(finished.stdout, /already promoted into production by tollgate at \d{4}-/);
    // ...but only an approver's repeat: anyone else's is still refused.
    const outsider = await s.cli('promote', 'release-saas-app', '--by', 'mallory');
    assert.equal(outsider.code, 2);
    assert.match(outsider.stderr, /has finished/);
  });

  for (const phase of ['deploying', 'verifying'] as const) {
    it(`a worker SIGKILLed in production (${phase}) is replaced and the run ends with exactly one release serving`, async () => {
      const s = await scenario(`e2e-kill-${phase}`, {
        fullStages: false,
        promotion: 'auto',
        verification: '4s',
        // The production deploy lasts at least 3 s, so the kill lands inside it (it took 1.3 s without).
        ...(phase === 'deploying' ? { productionStartDelayS: 3 } : {}),
      });
      const [first, second] = ['kill001', 'kill002'].map((label) => s.commit(label));
      s.startWorker();
      const firstRun = await s.cli('run', '-c', s.configPath, '--wait', '--ref', 'kill001');
      assert.equal(firstRun.code, 0, firstRun.stderr);
      assert.ok(first);
      const run = s.cli('run', '-c', s.configPath, '--wait', '--ref', 'kill002');
      await waitForPhase('release-saas-app', second!, phase, 'production');
      await s.killWorkers();
      s.startWorker();
      const result = await run;
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const production = await environmentStatus(s.home, { app: 'saas-app', name: 'production' });
      assert.ok(production.current?.startsWith(`saas-app-${second!.slice(0, 7)}-`), production.current ?? '');
      const alive = production.releases.filter((r) => r.alive).map((r) => r.releaseId);
      assert.deepEqual(alive, [production.current], 'exactly one release runs in production');
    });
  }
});
