/**
 * A release is one commit of one repository, through the real CLI and worker processes on a real
 * dev server: the commit asked for is what runs (never the working copy, which is left untouched),
 * a dirty tree is refused or released as a labelled snapshot, an unknown revision starts nothing, a
 * commit the worker cannot fetch fails at once, and two apps share one worker without meeting.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStatus, envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import type { ReleaseStatus } from '../../src/types.js';
import { SEARCH_KEYS } from '../../src/workflows/ui.js';
import { appRepo, commitVersion, startSite, workingTreeStatus } from '../support/apps.js';
import type { CliResult } from '../support/cli.js';
import { freePort } from '../support/delivery.js';
import { gitIn } from '../support/stages.js';
import { startTestServer } from '../support/temporal.js';
import { parseCliJson } from '../../src/cli/json-schemas.js';

let env: TestWorkflowEnvironment;
const workers: ChildProcess[] = [];
const environments: { home: string; app: string }[] = [];
before(async () => {
  env = await startTestServer();
});
after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  for (const { home, app } of environments) {
    for (const name of ['staging', 'production']) {
      await stopEnvironment(envPaths(home, { app, name })).catch(() => undefined);
    }
  }
  await env?.teardown();
});

/** One worker (its own home and task queue) and the CLI that talks to it. */
function site(label: string): { home: string; cli: (...args: string[]) => Promise<CliResult>; dir: string } {
  const started = startSite(env, label);
  workers.push(started.worker);
  return started;
}

/** A new app repository (with its config) under `dir`, on free ports. */
async function newApp(dir: string, home: string, name: string) {
  const repo = join(dir, name);
  const out = join(dir, `${name}.versions`);
  const ports = { staging: await freePort(), production: await freePort() };
  environments.push({ home, app: name });
  const first = appRepo(repo, name, ports, out);
  return { repo, out, ports, first, config: join(repo, 'tollgate.config.ts') };
}

/** The runs of `app` the server knows (how tests see that nothing was started). */
async function runsOf(app: string): Promise<number> {
  let count = 0;
  for await (const _ of env.client.workflow.list({ query: `TollgateApp = '${app}'` })) count++;
  return count;
}

/** GET /whoami of an environment's proxy. */
async function whoami(port: number): Promise<{ app: string; version: string }> {
  return (await (await fetch(`http://127.0.0.1:${port}/whoami`)).json()) as { app: string; version: string };
}

describe('a release is one commit', () => {
  it('releases commit A while the working tree is at a later commit B with edits: A runs, the tree is untouched', async () => {
    const { home, dir, cli } = site('src-exact');
    const app = await newApp(dir, home, 'notes-api');
    const commitA = app.first;
    const treeA = gitIn(app.repo, 'rev-parse', `${commitA}^{tree}`);
    commitVersion(app.repo, 'v2');
    // An uncommitted failing test and an untracked file in the working tree: not part of commit A.
    writeFileSync(
      join(app.repo, 'test/broken.test.js'),
      "import { it } from 'node:test';\nit('fails', () => { throw new Error('uncommitted'); });\n",
    );
    writeFileSync(join(app.repo, 'NOTES.txt'), 'scratch\n');
    const before = workingTreeStatus(app.repo);

    const run = await cli('run', '-c', app.config, '--ref', commitA.slice(0, 7), '--wait', '--json');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const summary = parseCliJson('run', run.stdout) as unknown as {
      status: ReleaseStatus;
      workflowId: string;
    };
    assert.equal(summary.status.source.commit, commitA, 'the short SHA was resolved to the full one');
    assert.equal(summary.status.source.tree, treeA);
    assert.equal(readFileSync(app.out, 'utf8'), 'v1\n', "A's file is what the stage saw");
    assert.deepEqual(await whoami(app.ports.production), { app: 'notes-api', version: 'v1' });
    assert.ok(
      summary.status.releaseId?.startsWith(`notes-api-${commitA.slice(0, 7)}-`),
      summary.status.releaseId,
    );
    assert.ok(
      summary.status.audit.every((e) => e.commit === commitA && e.tree === treeA),
      'every audit entry names the commit and tree',
    );

    assert.equal(workingTreeStatus(app.repo), before, 'the working tree is exactly as it was');
    assert.equal(existsSync(join(app.repo, 'dist')), false, 'no build output in the working copy');
    assert.equal(readFileSync(join(app.repo, 'VERSION'), 'utf8'), 'v2\n');

    const described = await env.client.workflow.getHandle(summary.workflowId).describe();
    assert.equal(described.typedSearchAttributes.get(SEARCH_KEYS.revision), commitA);
    assert.equal(described.typedSearchAttributes.get(SEARCH_KEYS.tree), treeA);
    const { runs: history } = parseCliJson(
      'history',
      (await cli('history', '--json', '--app', 'notes-api')).stdout,
    ) as unknown as {
      runs: { commit: string; tree: string; dirty: boolean }[];
    };
    assert.deepEqual(
      history.map((r) => [r.commit, r.tree, r.dirty]),
      [[commitA, treeA, false]],
    );
    // The run's checkout is gone when the run closes; its logs stay.
    const workspaces = join(home, 'workspaces', 'notes-api');
    assert.deepEqual(existsSync(workspaces) ? readdirSync(workspaces) : [], []);
    assert.ok(
      readdirSync(join(home, 'runs', summary.workflowId)).length > 0,
      'the run folder (logs, artifact) stays',
    );
  });

  it('refuses a dirty tree naming the files and starts nothing; --allow-dirty releases it, labelled dirty', async () => {
    const { home, dir, cli } = site('src-dirty');
    const app = await newApp(dir, home, 'dirty-api');
    writeFileSync(join(app.repo, 'VERSION'), 'v1-edited\n');
    writeFileSync(join(app.repo, 'src/extra.js'), 'export {};\n');

    const refused = await cli('run', '-c', app.config, '--wait');
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /uncommitted changes in the repository \(2 files: VERSION, src\/extra\.js\)/,
    );
    assert.match(refused.stderr, /--allow-dirty/);
    assert.equal(await runsOf('dirty-api'), 0, 'nothing was started');

    const released = await cli('run', '-c', app.config, '--wait', '--allow-dirty', '--json');
    assert.equal(released.code, 0, released.stdout + released.stderr);
    const { status } = JSON.parse(released.stdout) as { status: ReleaseStatus };
    assert.deepEqual(status.source.dirty?.base, app.first);
    assert.deepEqual([...(status.source.dirty?.files ?? [])].sort(), ['VERSION', 'src/extra.js']);
    assert.notEqual(status.source.commit, app.first, 'a snapshot commit, not HEAD');
    assert.match(status.releaseId ?? '', /^dirty-api-[0-9a-f]{7}-dirty-/);
    assert.equal(readFileSync(app.out, 'utf8'), 'v1-edited\n', 'the exact working tree ran');
    assert.equal((await whoami(app.ports.production)).version, 'v1-edited');
    // The user's branch, index and files are as they were: the snapshot lives under refs/tollgate.
    assert.equal(gitIn(app.repo, 'rev-parse', 'HEAD'), app.first);
    assert.match(workingTreeStatus(app.repo), /M VERSION/);
    assert.equal(
      gitIn(app.repo, 'rev-parse', `refs/tollgate/snapshots/${status.source.commit}`),
      status.source.commit,
    );

    const history = (await cli('history', '--app', 'dirty-api')).stdout;
    assert.match(history, new RegExp(`${status.source.commit.slice(0, 7)}\\+dirty`));
  });

  it('an unknown revision exits 2 and starts nothing', async () => {
    const { home, dir, cli } = site('src-unknown');
    const app = await newApp(dir, home, 'unknown-api');
    const run = await cli('run', '-c', app.config, '--ref', 'no-such-branch', '--wait');
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /--ref no-such-branch is not a commit in /);
    assert.equal(await runsOf('unknown-api'), 0);
  });

  it('a commit the worker cannot fetch fails at once, saying where it looked and to push it', async () => {
    const { home, dir, cli } = site('src-unpushed');
    const app = await newApp(dir, home, 'unpushed-api');
    // The "remote" has only the first commit; the second is local only.
    const remote = join(dir, 'remote.git');
    gitIn(dir, 'clone', '--quiet', '--bare', app.repo, remote);
    const unpushed = commitVersion(app.repo, 'v2');
    const run = await cli(
      'run',
      '-c',
      app.config,
      '--repository',
      `file://${remote}`,
      '--ref',
      unpushed,
      '--wait',
      '--json',
    );
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const { status, message } = JSON.parse(run.stdout) as { status: ReleaseStatus; message: string };
    assert.match(message, /\[CommitNotFound\]/);
    assert.ok(message.includes(`commit ${unpushed} is not in file://${remote}`), message);
    assert.match(message, /push it first/);
    assert.ok(
      Object.values(status.stages).every((s) => s.state === 'skipped' && s.attempts === 0),
      'no stage ran',
    );
  });

  it('two apps on one worker at once: each environment serves its own app; a third wanting a used port is refused', async () => {
    const { home, dir, cli } = site('src-two-apps');
    const notes = await newApp(dir, home, 'notes-api');
    const billing = await newApp(dir, home, 'billing-api');
    const [a, b] = await Promise.all([
      cli('run', '-c', notes.config, '--wait'),
      cli('run', '-c', billing.config, '--wait'),
    ]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    for (const [one, name] of [
      [notes, 'notes-api'],
      [billing, 'billing-api'],
    ] as const) {
      assert.deepEqual(await whoami(one.ports.staging), { app: name, version: 'v1' }, `${name} staging`);
      assert.deepEqual(
        await whoami(one.ports.production),
        { app: name, version: 'v1' },
        `${name} production`,
      );
      const production = await environmentStatus(home, { app: name, name: 'production' });
      assert.ok(production.current?.startsWith(`${name}-`), `${name}'s production is its own`);
    }

    // A third app whose staging claims notes-api's staging port: refused before anything is deployed.
    const clash = join(dir, 'clash-api');
    environments.push({ home, app: 'clash-api' });
    appRepo(
      clash,
      'clash-api',
      { staging: notes.ports.staging, production: await freePort() },
      join(dir, 'clash.versions'),
    );
    const refused = await cli('run', '-c', join(clash, 'tollgate.config.ts'), '--wait', '--json');
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    const { message, status } = JSON.parse(refused.stdout) as { message: string; status: ReleaseStatus };
    assert.match(message, /\[EnvironmentConflict\]/);
    assert.match(
      message,
      new RegExp(
        `environment staging of clash-api wants port ${notes.ports.staging}, which environment staging of notes-api holds`,
      ),
    );
    assert.equal(status.stages['deploy-to-staging']?.state, 'skipped');
    assert.deepEqual(
      await whoami(notes.ports.staging),
      { app: 'notes-api', version: 'v1' },
      'notes-api still serves',
    );
  });
});
