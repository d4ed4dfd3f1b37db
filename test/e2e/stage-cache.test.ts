/**
 * The stage result cache through the real CLI and worker on a real dev server: a re-release of the
 * same commit serves every command stage from the cache (naming the run it came from, in the status,
 * the CLI and history) while the deploys, smoke test and verification run again; a changed lockfile
 * runs the stages again; `--no-cache` runs them anyway.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseCliJson } from '../../src/cli/json-schemas.js';
import { envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import type { ReleaseStatus } from '../../src/types.js';
import { appRepo, commitVersion, startSite } from '../support/apps.js';
import { freePort } from '../support/delivery.js';
import { startTestServer } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let worker: ChildProcess | undefined;
let home = '';
const APP = 'cache-api';

before(async () => {
  env = await startTestServer();
});
after(async () => {
  worker?.kill('SIGKILL');
  for (const name of ['staging', 'production'])
    await stopEnvironment(envPaths(home, { app: APP, name })).catch(() => undefined);
  await env?.teardown();
});

interface RunSummary {
  workflowId: string;
  runId: string;
  status: ReleaseStatus;
}

/** Activity types the run's history scheduled, in order: what actually ran on a worker. */
async function scheduled(workflowId: string, runId: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes?.activityType?.name
      ? [e.activityTaskScheduledEventAttributes.activityType.name]
      : [],
  );
}

describe('the stage result cache', () => {
  it('a re-release serves the command stages from the cache, never a deploy, smoke test or verification; a changed lockfile or --no-cache runs them', async () => {
    const site = startSite(env, 'stage-cache');
    worker = site.worker;
    home = site.home;
    const repo = join(site.dir, APP);
    const out = join(site.dir, 'versions');
    appRepo(repo, APP, { staging: await freePort(), production: await freePort() }, out);
    const config = join(repo, 'tollgate.config.ts');
    const release = async (...extra: string[]): Promise<RunSummary> => {
      const run = await site.cli('run', '-c', config, '--wait', '--json', ...extra);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      return parseCliJson('run', run.stdout) as unknown as RunSummary;
    };

    const first = await release();
    assert.equal(readFileSync(out, 'utf8'), 'v1\n', 'the test stage ran');
    for (const stage of ['test', 'build']) assert.equal(first.status.stages[stage]?.cached, undefined);

    const second = await release();
    assert.equal(readFileSync(out, 'utf8'), 'v1\n', 'the test stage did not run again');
    for (const stage of ['test', 'build']) {
      const entry = second.status.stages[stage];
      assert.equal(entry?.state, 'succeeded');
      assert.deepEqual(
        [entry?.cached?.workflowId, entry?.cached?.runId],
        [first.workflowId, first.runId],
        `${stage} names the run it came from`,
      );
      assert.match(entry?.summary ?? '', /^cached: /);
    }
    assert.equal(
      second.status.artifact?.digest,
      first.status.artifact?.digest,
      'the same artifact, by digest',
    );
    assert.notEqual(second.status.artifact?.path, first.status.artifact?.path, "in the new run's folder");
    for (const step of ['deploy-to-staging', 'smoke-test-staging', 'deploy-to-production']) {
      const entry = second.status.stages[step];
      assert.equal(entry?.state, 'succeeded', step);
      assert.equal(entry?.cached, undefined, `${step} is never served from the cache`);
    }
    const ran = await scheduled(second.workflowId, second.runId);
    for (const activity of ['deployRelease', 'smokeTest', 'sampleEnvironment'])
      assert.ok(ran.includes(activity), `${activity} ran in the re-release (${ran.join(', ')})`);
    const samples = second.status.environments['production']?.verification?.samples ?? [];
    assert.ok(samples.length > 0, 'the verification window sampled the re-release');
    assert.ok(
      samples.every((s) => Date.parse(s.at) > Date.parse(first.status.audit.at(-1)!.at)),
      'with samples of its own',
    );

    const shown = await site.cli('status', second.workflowId);
    assert.match(shown.stdout, /test\s.*cached: .*\(from release-cache-api/);
    const history = parseCliJson('history', (await site.cli('history', '--json')).stdout) as unknown as {
      runs: { runId: string; cached: { stage: string; runId: string }[] }[];
    };
    assert.deepEqual(
      history.runs.find((r) => r.runId === second.runId)?.cached.map((c) => [c.stage, c.runId]),
      [
        ['test', first.runId],
        ['build', first.runId],
      ],
    );
    assert.deepEqual(history.runs.find((r) => r.runId === first.runId)?.cached, []);

    // A new lockfile is a new tree: every stage runs again.
    const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as Record<string, unknown>;
    commitVersion(repo, 'v1', {
      'package-lock.json': `${JSON.stringify({ ...lock, version: '1.0.1' }, null, 2)}\n`,
    });
    const third = await release();
    assert.equal(readFileSync(out, 'utf8'), 'v1\nv1\n', 'a changed lockfile runs the tests again');
    assert.equal(third.status.stages['test']?.cached, undefined);

    const fourth = await release('--no-cache');
    assert.equal(readFileSync(out, 'utf8'), 'v1\nv1\nv1\n', '--no-cache runs them anyway');
    assert.equal(fourth.status.stages['build']?.cached, undefined);
  });
});
