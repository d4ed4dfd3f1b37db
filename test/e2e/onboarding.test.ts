/**
 * A new user's first release, as they would do it: Tollgate packed with `npm pack`, installed into a
 * fresh project of their own with its own git repository, `npx tollgate init`, a worker
 * (`npx tollgate worker`) and `npx tollgate run --wait` on a real dev server, to production. Then
 * their CI's turn: a commit pushed from another clone, released by the steps of the shipped GitHub
 * Actions workflow (examples/github-actions/tollgate.yml) run from a shallow checkout, with the
 * repository's URL the only way the worker can get that commit.
 *
 * The tarball is vendored in the project (`npm install -D ./vendor/tollgate-<v>.tgz`), so its path is
 * the same in every checkout a release makes; from the registry it would be `npm install -D tollgate`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStatus, envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import { waitForPhase } from '../support/delivery.js';
import { appFiles } from '../support/apps.js';
import { fixtureRepo, gitIn } from '../support/stages.js';
import { ROOT, startTestServer, tempDir, uniqueIds, temporalEnv } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let worker: ChildProcess | undefined;
let cleanup: (() => Promise<void>) | undefined;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  // npx runs the bin in a child of its own: kill the whole process group, or the worker outlives the
  // test holding its stderr, and the test runner waits for it forever.
  if (worker?.pid) {
    try {
      process.kill(-worker.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await cleanup?.();
  await env?.teardown();
});

/** Runs a command in `cwd` to completion, resolving with its exit code and output. */
function exec(
  file: string,
  args: string[],
  cwd: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd,
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('close', (code) => resolve({ code, out }));
  });
}

it(
  'npm pack → install into a new project → npx tollgate init → a first green release to production → CI releases a pushed commit',
  { timeout: 900_000 },
  async () => {
    const dir = tempDir('onboarding');
    const project = join(dir, 'notes');
    const app = `notes-${randomUUID().slice(0, 6)}`;
    const { taskQueue } = uniqueIds('onboarding');
    const home = join(dir, 'home');
    const tollgateEnv = {
      ...temporalEnv(env),
      TOLLGATE_HOME: home,
      TOLLGATE_TASK_QUEUE: taskQueue,
      TOLLGATE_RUNNER: 'host',
    };

    // The package, as the registry would hold it (built by scripts/test before the tests run).
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT })
      .toString()
      .trim();
    const tarball = join(dir, basename(packed.split('\n').at(-1)!));
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      private?: boolean;
      bin: Record<string, string>;
    };
    assert.equal(manifest.private, undefined, 'the package is installable');

    // A user's own small service, in its own repository, with Tollgate vendored as a dev dependency.
    const files = appFiles(app, 'v1');
    delete files['package-lock.json'];
    fixtureRepo(project, files);
    mkdirSync(join(project, 'vendor'));
    copyFileSync(tarball, join(project, 'vendor', basename(tarball)));
    const installed = await exec(
      'npm',
      [
        'install',
        '--save-dev',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        `./vendor/${basename(tarball)}`,
      ],
      project,
    );
    assert.equal(installed.code, 0, installed.out);
    gitIn(project, 'add', '--all');
    gitIn(project, 'commit', '--quiet', '-m', 'Install tollgate');

    const startedAt = performance.now();
    const npx = (...args: string[]) =>
      exec('npx', ['--no-install', 'tollgate', ...args], project, tollgateEnv);
    const init = await npx('init');
    assert.equal(init.code, 0, init.out);
    assert.match(init.out, /Found a Node project \(npm/);
    assert.match(init.out, /npx tollgate run --wait/);
    const config = readFileSync(join(project, 'tollgate.config.ts'), 'utf8');
    assert.match(config, /import \{ defineTollgate \} from 'tollgate\/config';/);
    const again = await npx('init');
    assert.equal(again.code, 2, 'init refuses to overwrite the config it wrote');
    // The user's own choice for a first try: a short verification window.
    writeFileSync(
      join(project, 'tollgate.config.ts'),
      config.replace(/duration: '[^']+'/, "duration: '2s'").replace(/interval: '[^']+'/, "interval: '500ms'"),
    );
    gitIn(project, 'add', 'tollgate.config.ts');
    gitIn(project, 'commit', '--quiet', '-m', 'Add the Tollgate release pipeline');

    const ports = [...config.matchAll(/port: (\d+)/g)].map((m) => Number(m[1]));
    cleanup = async () => {
      for (const name of ['staging', 'production'])
        await stopEnvironment(envPaths(home, { app, name })).catch(() => undefined);
    };
    worker = spawn('npx', ['--no-install', 'tollgate', 'worker'], {
      cwd: project,
      env: { ...process.env, ...tollgateEnv },
      stdio: ['ignore', 'ignore', 'inherit'],
      detached: true,
    });
    const run = await npx('run', '--wait', '--auto-promote');
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /✓ release succeeded/);
    console.log(`# tollgate init → first green release of ${app}: ${seconds} s`);

    const production = await environmentStatus(home, { app, name: 'production' });
    assert.ok(production.current?.startsWith(`${app}-${gitIn(project, 'rev-parse', 'HEAD').slice(0, 7)}-`));
    assert.equal(ports.length, 2, `two ports in the config: ${ports.join(', ')}`);
    const answer = await fetch(`http://127.0.0.1:${ports[1]}/whoami`);
    assert.deepEqual(await answer.json(), { app, version: 'v1' });
    assert.equal(
      existsSync(join(project, 'dist')),
      false,
      'the release was built in a checkout, not in the project',
    );

    // CI: the project is pushed to its remote; a teammate pushes v2 from a clone of their own, so the
    // project (and the worker's view of it) never holds that commit.
    const remote = join(dir, 'notes.git');
    gitIn(dir, 'clone', '--quiet', '--bare', project, remote);
    const teammate = join(dir, 'teammate');
    gitIn(dir, 'clone', '--quiet', remote, teammate);
    writeFileSync(join(teammate, 'VERSION'), 'v2\n');
    gitIn(teammate, 'commit', '--quiet', '-am', 'v2');
    gitIn(teammate, 'push', '--quiet', 'origin', 'HEAD');
    const pushed = gitIn(teammate, 'rev-parse', 'HEAD');

    // The workflow's main job, step by step, in a shallow checkout of the pushed commit.
    const workflowFile = readFileSync(join(ROOT, 'examples/github-actions/tollgate.yml'), 'utf8');
    const ci = join(dir, 'ci');
    gitIn(dir, 'clone', '--quiet', '--depth', '1', `file://${remote}`, ci);
    assert.match(workflowFile, /^ {6}- run: npm ci --ignore-scripts$/m);
    const npmCi = await exec(
      'npm',
      ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
      ci,
    );
    assert.equal(npmCi.code, 0, npmCi.out);
    const releaseStep = /- name: Release \(main\)\n(?:\s+#.*\n|\s+if:.*\n)*\s+run: (.+)\n/.exec(
      workflowFile,
    )?.[1];
    assert.ok(releaseStep, 'the workflow has a "Release (main)" step with a one-line run');
    assert.doesNotMatch(releaseStep, /^[>|]/, 'a one-line run, not a YAML block');
    const approver = /approvers: \['([^']+)'\]/.exec(config)?.[1];
    assert.ok(approver, 'init named an approver');
    const ciRun = exec('bash', ['-c', releaseStep], ci, {
      ...tollgateEnv,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_SHA: pushed,
      GITHUB_ACTOR: approver,
      REPOSITORY_URL: `file://${remote}`,
    });
    // The gate before production is manual: the CI job ends green at the gate (--until-gate) with
    // the promote command in its log; the approver promotes, as an operator would; a later job waits.
    const lane = env.client.workflow.getHandle(`release-${app}`);
    let ciEnded: string | undefined;
    void ciRun.then((result) => (ciEnded = result.out));
    for (;;) {
      if (ciEnded !== undefined) assert.fail(`the CI step ended before the release started: ${ciEnded}`);
      const described = await lane.describe().catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      });
      if (described?.status.name === 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await waitForPhase(lane, 'awaiting-promotion');
    const atGate = await ciRun;
    assert.equal(atGate.code, 0, atGate.out);
    assert.match(atGate.out, /⏸ release waiting at the gate before production/, atGate.out);
    assert.ok(atGate.out.includes(`tollgate promote release-${app} --by <you>`), atGate.out);
    const promote = await npx(
      'promote',
      `release-${app}`,
      '--by',
      approver,
      '--reason',
      'staging looks good',
    );
    assert.equal(promote.code, 0, promote.out);
    const released = await npx('wait', `release-${app}`);
    assert.equal(released.code, 0, released.out);
    assert.match(released.out, /✓ release succeeded/, released.out);
    const released2 = await environmentStatus(home, { app, name: 'production' });
    assert.ok(
      released2.current?.startsWith(`${app}-${pushed.slice(0, 7)}-`),
      released2.current ?? 'nothing in production',
    );
    const v2 = await fetch(`http://127.0.0.1:${ports[1]}/whoami`);
    assert.deepEqual(
      await v2.json(),
      { app, version: 'v2' },
      'the worker fetched the pushed commit from the URL',
    );
    assert.throws(() => gitIn(project, 'cat-file', '-e', pushed), 'the project never had the commit');
  },
);
