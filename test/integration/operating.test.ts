/**
 * What an operator sees before anything runs, through the real CLI and a real dev server started by
 * `tollgate dev`: the links follow the UI the server was started with (or TOLLGATE_UI_URL), and
 * `doctor` fails while no worker polls the task queue, then passes once one does.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/environments/local/net.js';
import { stopProcess } from '../../src/environments/local/processes.js';
import { runCli } from '../support/cli.js';
import { ROOT, tempDir, toolBinary } from '../support/temporal.js';
import { parseCliJson } from '../../src/cli/json-schemas.js';

let home: string;
let env: NodeJS.ProcessEnv;
let uiPort: number;
let worker: ChildProcess | undefined;

before(async () => {
  home = tempDir('operating');
  const port = await freePort();
  uiPort = await freePort();
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TOLLGATE_HOME: home,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TOLLGATE_TASK_QUEUE: `operating-${process.pid}`,
    TEMPORAL_BIN: toolBinary('temporal'),
    STRIPE_MOCK_BIN: toolBinary('stripe-mock'),
  };
  const started = await runCli(['dev', '--detach', '--port', String(port), '--ui-port', String(uiPort)], env);
  assert.equal(started.code, 0, started.stdout + started.stderr);
});

after(async () => {
  if (worker && worker.exitCode === null) {
    await new Promise((resolve) => worker!.once('exit', resolve).kill('SIGTERM'));
  }
  // The dev server writes its SQLite file in the home until it has exited: wait for it, or the
  // removal races its last writes (ENOTEMPTY).
  const pid = Number(readFileSync(join(home, 'temporal.pid'), { encoding: 'utf8', flag: 'a+' }));
  if (pid > 0) await stopProcess(pid, 10_000);
  rmSync(home, { recursive: true, force: true, maxRetries: 5 });
});

describe('operating from the terminal', () => {
  it('links use the UI port `tollgate dev` was started with, or TOLLGATE_UI_URL', async () => {
    const doctor = await runCli(['doctor'], env);
    assert.match(doctor.stdout, new RegExp(`UI http://localhost:${uiPort}\\)`), doctor.stdout);
    assert.doesNotMatch(doctor.stdout, /localhost:8233/);
    const again = await runCli(['dev', '--port', env.TEMPORAL_ADDRESS!.split(':')[1]!], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`already listens .*UI at http://localhost:${uiPort}$`, 'm'));
    const chosen = await runCli(['doctor'], { ...env, TOLLGATE_UI_URL: 'http://127.0.0.1:9/ui/' });
    assert.match(chosen.stdout, /UI http:\/\/127\.0\.0\.1:9\/ui\)/);
  });

  it('doctor fails while no worker polls the task queue, and passes once one does', async () => {
    const without = await runCli(['doctor', '--json'], env);
    assert.equal(without.code, 1, without.stdout + without.stderr);
    const report = parseCliJson('doctor', without.stdout) as unknown as {
      schemaVersion: number;
      command: string;
      ok: boolean;
      checks: { name: string; ok: boolean; detail: string }[];
    };
    assert.deepEqual([report.schemaVersion, report.command, report.ok], [1, 'doctor', false]);
    const line = report.checks.find((c) => c.name === 'worker');
    assert.equal(line?.ok, false, JSON.stringify(report.checks));
    assert.match(line.detail, new RegExp(`no worker polls task queue ${env.TOLLGATE_TASK_QUEUE}`));
    assert.deepEqual(
      report.checks.filter((c) => !c.ok).map((c) => c.name),
      ['worker'],
      'only the worker is missing',
    );

    worker = spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // The worker needs a few seconds to bundle and start polling: ask until it is seen (or give up).
    let shown = '';
    for (let i = 0; i < 60; i++) {
      const withWorker = await runCli(['doctor'], env);
      shown = withWorker.stdout;
      if (withWorker.code === 0) break;
      assert.equal(worker.exitCode, null, 'the worker is still running');
      await sleep(1000);
    }
    assert.match(shown, new RegExp(`✓ worker +1 polling task queue ${env.TOLLGATE_TASK_QUEUE}: \\S+`), shown);
  });
});
