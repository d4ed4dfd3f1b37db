/**
 * Contract tests of how the Dagger runner gets a session (fake CLI, fake engine session: no real
 * engine runs in CI). What a real engine showed: a CLI that cannot reach its engine hangs at
 * "connecting to engine", ignores SIGTERM and stays behind; and `runner: auto` picked Dagger where
 * no engine could start. Here connecting has a deadline, the CLI's process group is killed on
 * timeout, on abort and when the call ends, and `auto` asks the engine before choosing it.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FailureType, NON_RETRYABLE_FAILURES } from '../../src/failures.js';
import { DaggerRunner } from '../../src/runners/dagger.js';
import { StageCancelledError } from '../../src/runners/host.js';
import { RunnerSelector } from '../../src/runners/select.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import { alive, fakeCli } from '../support/fake-dagger-cli.js';
import { stageContext, stageRejection, testPlan } from '../support/dagger-fixtures.js';

const RUNNER_HOST = 'docker-container://tollgate-no-such-engine';
const ENGINE_VARS = [
  'DAGGER_SESSION_PORT',
  'DAGGER_SESSION_TOKEN',
  '_EXPERIMENTAL_DAGGER_CLI_BIN',
  '_EXPERIMENTAL_DAGGER_RUNNER_HOST',
] as const;

/** Waits until `check` holds, polling; fails with `what` after `ms` (a bound, never a pass condition). */
async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

void describe('Dagger sessions Tollgate starts itself (contract, fake CLI)', () => {
  let saved: [string, string | undefined][] = [];
  beforeEach(() => {
    saved = ENGINE_VARS.map((name) => [name, process.env[name]]);
    for (const name of ENGINE_VARS) delete process.env[name];
    process.env['_EXPERIMENTAL_DAGGER_RUNNER_HOST'] = RUNNER_HOST;
  });
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  void it('runs the stage through the session the CLI printed, then stops the CLI', async () => {
    const session = await fakeDagger.start();
    try {
      const cli = fakeCli({ connect: { port: session.port, token: session.token } });
      process.env['_EXPERIMENTAL_DAGGER_CLI_BIN'] = cli.bin;
      const result = await new DaggerRunner().runStage(testPlan(), stageContext());
      assert.equal(result.exitCode, 0);
      assert.ok(
        session.queries.some((q) => q.includes('withExec')),
        'the steps ran in that session',
      );
      assert.equal(process.env['DAGGER_SESSION_PORT'], undefined, 'the session is not left in the env');
      const pid = cli.pid();
      assert.ok(pid !== undefined);
      await eventually(() => !alive(pid), 'the CLI still runs after the stage ended');
    } finally {
      await session.close();
    }
  });

  void it('gives up connecting at the deadline with EngineUnavailable naming what it tried, and kills a CLI that ignores SIGTERM', async () => {
    const cli = fakeCli('hang');
    process.env['_EXPERIMENTAL_DAGGER_CLI_BIN'] = cli.bin;
    const error = await stageRejection(
      new DaggerRunner({ connectTimeoutMs: 800 }).runStage(testPlan({ timeoutMs: 60_000 }), stageContext()),
    );
    assert.equal(error.type, FailureType.EngineUnavailable);
    assert.ok(!NON_RETRYABLE_FAILURES.includes(error.type), 'another attempt may find the engine up');
    assert.match(error.message, /no engine session within 0\.8s/);
    assert.ok(error.message.includes(`${cli.bin} session`), error.message);
    assert.ok(error.message.includes(RUNNER_HOST), error.message);
    assert.match(error.message, /connecting to engine/, "the CLI's last words are in the message");
    const pid = cli.pid();
    assert.ok(pid !== undefined && !alive(pid), 'the hung CLI was killed');
  });

  void it('reads the connect deadline from TOLLGATE_DAGGER_CONNECT_TIMEOUT_MS', async () => {
    const cli = fakeCli('hang');
    process.env['_EXPERIMENTAL_DAGGER_CLI_BIN'] = cli.bin;
    const runner = new DaggerRunner({ env: { TOLLGATE_DAGGER_CONNECT_TIMEOUT_MS: '600' } });
    const error = await stageRejection(runner.runStage(testPlan({ timeoutMs: 60_000 }), stageContext()));
    assert.match(error.message, /no engine session within 0\.6s/);
  });

  void it('kills the CLI when the stage is cancelled while it connects', async () => {
    const cli = fakeCli('hang');
    process.env['_EXPERIMENTAL_DAGGER_CLI_BIN'] = cli.bin;
    const cancel = new AbortController();
    const run = new DaggerRunner().runStage(testPlan(), stageContext({ signal: cancel.signal }));
    await eventually(() => cli.pid() !== undefined, 'the CLI never started');
    cancel.abort();
    await assert.rejects(run, StageCancelledError);
    const pid = cli.pid()!;
    await eventually(() => !alive(pid), 'the CLI outlived the cancellation');
  });

  void it('reports a CLI that exits before connecting as EngineUnavailable with its stderr', async () => {
    const cli = fakeCli('fail');
    process.env['_EXPERIMENTAL_DAGGER_CLI_BIN'] = cli.bin;
    const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
    assert.equal(error.type, FailureType.EngineUnavailable);
    assert.match(error.message, /exited with 1 before it connected/);
    assert.match(error.message, /no such container tollgate-nope/);
  });

  void it('runner auto: picks Dagger only when the engine answers, and says what answered', async () => {
    const env = (bin: string): NodeJS.ProcessEnv => ({
      PATH: process.env['PATH'] ?? '',
      _EXPERIMENTAL_DAGGER_CLI_BIN: bin,
      _EXPERIMENTAL_DAGGER_RUNNER_HOST: RUNNER_HOST,
    });
    const dead = await RunnerSelector.detect(undefined, env(fakeCli('fail').bin), 5_000);
    assert.equal(
      dead.detection.available,
      true,
      'a CLI and somewhere to start it: detection alone would say yes',
    );
    assert.equal(dead.resolve('auto'), 'host');
    assert.match(dead.describe(), /runner auto → host: .*exited with 1 before it connected/);
    assert.equal(dead.resolve('dagger'), 'dagger', 'an explicit runner: dagger is still honoured');

    const hung = await RunnerSelector.detect(undefined, env(fakeCli('hang').bin), 700);
    assert.equal(hung.resolve('auto'), 'host');
    assert.match(
      hung.describe(),
      /runner auto → host: .*no engine session within 0\.7s .*connecting to engine/,
    );

    const session = await fakeDagger.start();
    try {
      const cli = fakeCli({ connect: { port: session.port, token: session.token } });
      const live = await RunnerSelector.detect(undefined, env(cli.bin), 5_000);
      assert.equal(live.resolve('auto'), 'dagger');
      assert.match(live.describe(), /runner auto → dagger: .*engine v0\.21\.9 answered/);
      assert.ok(
        session.queries.some((q) => /version/.test(q)),
        'it asked the engine',
      );
    } finally {
      await session.close();
    }

    const host = await RunnerSelector.detect('host', env(fakeCli('hang').bin), 700);
    assert.equal(host.answer, undefined, 'TOLLGATE_RUNNER=host asks no engine');
  });
});
