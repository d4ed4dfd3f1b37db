/**
 * What a CI job sees, through the real CLI and a worker process on a real dev server: a failing
 * stage explained under GitHub Actions (its last lines, where its log is, a group per stage, an
 * error annotation, the job summary); a job that ends at the promotion gate (`run --wait
 * --until-gate`) and a later one that follows the run to its end (`tollgate wait`); and a run
 * that nobody picks up saying so instead of waiting silently.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import type { ReleaseStatus } from '../../src/types.js';
import { appFiles } from '../support/apps.js';
import { runCli, type CliResult } from '../support/cli.js';
import { freePort } from '../support/delivery.js';
import { fixtureRepo } from '../support/stages.js';
import { ROOT, startTestServer, tempDir, uniqueIds, temporalEnv } from '../support/temporal.js';
import { parseCliJson } from '../../src/cli/json-schemas.js';

let env: TestWorkflowEnvironment;
const sites: Site[] = [];
const environments: { home: string; app: string; name: string }[] = [];
before(async () => {
  env = await startTestServer();
});
after(async () => {
  for (const site of sites) site.stopWorker();
  for (const { home, app, name } of environments) {
    await stopEnvironment(envPaths(home, { app, name })).catch(() => undefined);
  }
  await env?.teardown();
});

/** A home and task queue of their own; the worker starts when the test says so. */
class Site {
  readonly dir: string;
  readonly home: string;
  readonly taskQueue: string;
  readonly env: NodeJS.ProcessEnv;
  private worker?: ChildProcess;

  constructor(label: string) {
    this.dir = tempDir(label);
    this.home = join(this.dir, 'home');
    this.taskQueue = uniqueIds(label).taskQueue;
    // Whatever job runs these tests, the CLI sees GitHub Actions only where a test says so.
    const { GITHUB_ACTIONS: _actions, GITHUB_STEP_SUMMARY: _summary, ...rest } = process.env;
    this.env = {
      ...rest,
      ...temporalEnv(env),
      TOLLGATE_HOME: this.home,
      TOLLGATE_TASK_QUEUE: this.taskQueue,
      TOLLGATE_RUNNER: 'host',
    };
    sites.push(this);
  }

  /** Starts `node dist/src/worker.js` on the site's queue. */
  startWorker(): void {
    this.worker = spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }

  stopWorker(): void {
    this.worker?.kill('SIGKILL');
  }

  /** Runs `tollgate <args>` to completion. */
  cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    return runCli(args, { ...this.env, ...extra });
  }
}

/** The app's repository with `config` (the body of `export default`) committed; returns the config's path. */
function appRepo(site: Site, app: string, config: string, files: Record<string, string> = {}): string {
  const repo = join(site.dir, app);
  fixtureRepo(repo, {
    ...appFiles(app, 'v1'),
    ...files,
    'tollgate.config.ts': `export default {\n  app: '${app}',\n  runner: 'host',\n${config}\n};\n`,
  });
  return join(repo, 'tollgate.config.ts');
}

const shown = (r: CliResult): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Prints 30 numbered lines, a credential-looking value (assembled at run time) and a failing test, then exits 1. */
const FAILING_TEST =
  'for i in $(seq -w 1 30); do echo "line $i"; done\nk=abcdefghijklmnop\necho "key sk_live_${k}1234"\necho "not ok 3 - checkout total"\nexit 1\n';

describe('CI output', () => {
  it('a failing stage under GitHub Actions: its last lines, its log, a group per stage, an annotation, the summary', async () => {
    const site = new Site('ci-fail');
    site.startWorker();
    const config = appRepo(
      site,
      'ci-fail-app',
      `  stages: {
    lint: { steps: [['node', '--check', 'src/server.js']] },
    test: { needs: ['lint'], steps: [['sh', 'checkout.test.sh']] },
  },`,
      { 'checkout.test.sh': FAILING_TEST },
    );
    const summaryFile = join(site.dir, 'step-summary.md');
    const run = await site.cli(['run', '-c', config, '--wait'], {
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: summaryFile,
    });
    const out = shown(run);
    assert.equal(run.code, 1, out);
    const workflowId = /^Started (\S+):/m.exec(run.stdout)?.[1];
    assert.ok(workflowId, out);

    // Each stage's lines while it runs in a group of its own; the outcome lines outside, visible.
    assert.match(run.stdout, /^::group::lint$/m, out);
    assert.match(run.stdout, /^::group::test$/m, out);
    assert.match(run.stdout, /^::endgroup::$/m, out);
    const opened = run.stdout.match(/^::group::/gm)?.length ?? 0;
    assert.equal(run.stdout.match(/^::endgroup::$/gm)?.length, opened, `every group closed\n${out}`);
    assert.match(run.stdout, /^ {2}✓ lint +succeeded/m, out);

    // The failed stage, then its last lines and where its full log is.
    const lines = run.stdout.split('\n');
    const failedAt = lines.findIndex((l) => /^ {2}✗ test +failed/.test(l));
    assert.ok(failedAt >= 0, out);
    assert.match(lines[failedAt]!, /step 1\/1 \(sh checkout\.test\.sh\) exited with 1/, out);
    const below = lines.slice(failedAt + 1, failedAt + 25).join('\n');
    assert.match(below, /^ {4}│ not ok 3 - checkout total$/m, out);
    assert.match(below, /^ {4}│ line 30$/m, out);
    assert.doesNotMatch(below, /│ line 05$/m, `only the last lines\n${out}`);
    assert.match(below, /│ key sk_live_…1234$/m, `a credential-looking value is masked\n${out}`);
    assert.ok(!run.stdout.includes('abcdefghijklmnop1234'), `the value never shows\n${out}`);
    const logLine = new RegExp(
      `^ {4}full log: (${site.home}/runs/${workflowId}/([0-9a-f-]+)/test\\.log) on the worker \\(\\$TOLLGATE_HOME/runs/${workflowId}/\\2/test\\.log\\)$`,
      'm',
    );
    assert.match(below, logLine, out);
    const logPath = logLine.exec(below)![1]!;
    assert.match(readFileSync(logPath, 'utf8'), /not ok 3 - checkout total/, 'the path is the real log');

    // One annotation, on one line: the reason and the last lines, escaped.
    const annotations = run.stdout.match(/^::error .*$/gm) ?? [];
    assert.equal(annotations.length, 1, out);
    assert.match(
      annotations[0],
      /^::error title=test::test: step 1\/1 \(sh checkout\.test\.sh\) exited with 1%0A/,
      out,
    );
    assert.match(annotations[0], /%0Anot ok 3 - checkout total%0A/, out);
    assert.match(run.stdout, /✗ release failed: /, out);

    // The job summary: a row per stage linking the run, the failure with its log, the last lines.
    const summary = readFileSync(summaryFile, 'utf8');
    assert.match(summary, /^### Tollgate: ci-fail-app @ `[0-9a-f]{12}` — failed$/m, summary);
    assert.match(
      summary,
      new RegExp(`^\\| \\[lint\\]\\(http[^)]+/workflows/${workflowId}/[0-9a-f-]+\\) \\| succeeded `, 'm'),
      summary,
    );
    assert.match(
      summary,
      /^\| \[test\]\([^)]+\) \| failed \| 1 \| .* exited with 1<br>log `[^`]+\/test\.log` on the worker/m,
      summary,
    );
    assert.match(summary, /^not ok 3 - checkout total$/m, summary);

    // `wait` on the closed run, as JSON: the envelope, both ids, the tail in the status (bounded).
    const waited = await site.cli(['wait', workflowId, '--json']);
    assert.equal(waited.code, 1, shown(waited));
    const doc = parseCliJson('wait', waited.stdout) as unknown as {
      schemaVersion: number;
      command: string;
      workflowId: string;
      runId: string;
      outcome: string;
      status: ReleaseStatus;
    };
    assert.equal(doc.command, 'wait');
    assert.equal(doc.schemaVersion, 1);
    assert.equal(doc.workflowId, workflowId);
    assert.match(doc.runId, /^[0-9a-f-]{36}$/);
    assert.ok(logPath.includes(`/${doc.runId}/`), 'the log is the run the JSON names');
    assert.equal(doc.outcome, 'failed');
    const tail = doc.status.stages.test?.logTail ?? '';
    assert.match(tail, /not ok 3 - checkout total/);
    assert.ok(tail.split('\n').length <= 20, `a bounded tail: ${tail}`);
    assert.equal(doc.status.stages.test?.logPath, logPath);
  });

  it('--until-gate ends the job at the gate with the promote and wait commands; `wait` after the promote exits 0', async () => {
    const site = new Site('ci-gate');
    site.startWorker();
    const app = 'ci-gate-app';
    const port = await freePort();
    environments.push({ home: site.home, app, name: 'production' });
    const config = appRepo(
      site,
      app,
      `  stages: {
    test: { steps: [['npm', 'test']] },
    build: { steps: [['npm', 'run', 'build']], artifact: { include: ['dist', 'package.json'], install: ['true'], sbom: ['sh', '-c', 'echo {}'] } },
  },
  environments: [
    {
      name: 'production',
      port: ${port},
      start: ['node', 'dist/server.js'],
      promotion: { mode: 'manual', approvers: ['alice'], timeout: '10m' },
      verification: { duration: '1s', interval: '250ms' },
    },
  ],`,
    );
    const workflowId = `release-${app}`;
    const run = await site.cli(['run', '-c', config, '--wait', '--until-gate']);
    assert.equal(run.code, 0, shown(run));
    assert.match(run.stdout, /^ {2}✓ build +succeeded/m, shown(run));
    assert.match(
      run.stdout,
      new RegExp(`^⏸ release waiting at the gate before production: ${workflowId} \\(until `, 'm'),
      shown(run),
    );
    assert.match(run.stdout, new RegExp(`tollgate promote ${workflowId} --by <you>`), shown(run));
    assert.match(run.stdout, new RegExp(`tollgate wait ${workflowId}$`, 'm'), shown(run));
    assert.doesNotMatch(run.stdout, /release (succeeded|failed)/, shown(run));

    // Still at the gate: `wait --until-gate --json` answers at once, with both ids.
    const atGate = await site.cli(['wait', workflowId, '--until-gate', '--json']);
    assert.equal(atGate.code, 0, shown(atGate));
    const doc = parseCliJson('wait', atGate.stdout);
    assert.equal(doc.command, 'wait');
    assert.equal(doc.outcome, 'waiting-at-gate');
    assert.equal(doc.workflowId, workflowId);
    assert.match(String(doc.runId), /^[0-9a-f-]{36}$/);
    assert.deepEqual(doc.next, {
      promote: `tollgate promote ${workflowId} --by <you>`,
      wait: `tollgate wait ${workflowId}`,
    });

    const promoted = await site.cli(['promote', workflowId, '--by', 'alice', '--reason', 'looks good']);
    assert.equal(promoted.code, 0, shown(promoted));
    const waited = await site.cli(['wait', workflowId]);
    assert.equal(waited.code, 0, shown(waited));
    assert.match(waited.stdout, new RegExp(`^Waiting for ${workflowId}$`, 'm'), shown(waited));
    assert.match(waited.stdout, new RegExp(`✓ release succeeded: ${workflowId}`), shown(waited));
  });

  it('run --wait with no worker says so on stderr before anything runs, keeps waiting, and goes on once one starts', async () => {
    const site = new Site('ci-noworker');
    const config = appRepo(
      site,
      'ci-noworker-app',
      `  stages: { lint: { steps: [['node', '--check', 'src/server.js']] } },`,
    );
    const child = spawn(process.execPath, [join(ROOT, 'dist/src/client.js'), 'run', '-c', config, '--wait'], {
      cwd: ROOT,
      env: site.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      const startedAt = Date.now();
      // Read stderr until the message appears; the deadline is generous and only ends a hung test.
      const message = await new Promise<string>((resolve, reject) => {
        const deadline = setTimeout(
          () => reject(new Error(`no message within 60 s\n${stdout}\n${stderr}`)),
          60_000,
        );
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
          const line = stderr.split('\n').find((l) => l.includes('no worker polls task queue'));
          if (line) {
            clearTimeout(deadline);
            resolve(line);
          }
        });
        void closed.then((code) =>
          reject(new Error(`the CLI exited (${code}) before saying so\n${stdout}\n${stderr}`)),
        );
      });
      const stdoutAtMessage = stdout;
      console.log(`# the no-worker message came ${Date.now() - startedAt} ms after the CLI started`);
      assert.match(message, new RegExp(`no worker polls task queue ${site.taskQueue} on ${env.address}`));
      assert.match(message, /tollgate worker/);
      assert.match(stdoutAtMessage, /^Started /m, 'the run was started');
      assert.doesNotMatch(stdoutAtMessage, /[▶✓✗] lint/, `said before any stage started\n${stdoutAtMessage}`);

      site.startWorker();
      const code = await closed;
      assert.equal(code, 0, `${stdout}\n${stderr}`);
      assert.equal(
        stderr.match(/no worker polls task queue/g)?.length,
        1,
        `said once per absence\n${stderr}`,
      );
      assert.match(stderr, /a worker (polls task queue|picked up the run)/, stderr);
      assert.match(stdout, /✓ release succeeded/, stdout);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
