/**
 * Contract tests of the Dagger runner when the engine misbehaves: refused and reset connections,
 * a stage that hangs past its timeout, a cancellation, a CLI that cannot start a session.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { FailureType } from '../../src/failures.js';
import { classifyDaggerError } from '../../src/runners/dagger-errors.js';
import { DaggerRunner } from '../../src/runners/dagger.js';
import { StageCancelledError } from '../../src/runners/host.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import { stageContext, stageRejection, testPlan, useSession } from '../support/dagger-fixtures.js';

void describe('DaggerRunner engine failures (contract)', () => {
  void it('reports a refused connection as EngineUnavailable', async () => {
    const restore = useSession({ port: await fakeDagger.closedPort(), token: 'unused' });
    try {
      const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
      assert.equal(error.type, FailureType.EngineUnavailable);
      assert.match(error.message, /D108/);
    } finally {
      restore();
    }
  });

  void it('reports a reset connection as EngineUnavailable', async () => {
    const session = await fakeDagger.start([{ when: () => true, reply: { reset: true } }]);
    const restore = useSession(session);
    try {
      const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
      assert.equal(error.type, FailureType.EngineUnavailable);
      assert.match(error.message, /D101/);
    } finally {
      restore();
      await session.close();
    }
  });

  void it('stops waiting at the stage timeout with StageTimeout', async () => {
    const session = await fakeDagger.start([{ when: 'exitCode', reply: { hang: true } }]);
    const restore = useSession(session);
    try {
      const started = Date.now();
      const error = await stageRejection(
        new DaggerRunner().runStage(testPlan({ timeoutMs: 300 }), stageContext()),
      );
      assert.equal(error.type, FailureType.StageTimeout);
      assert.ok(Date.now() - started < 5000);
    } finally {
      restore();
      await session.close();
    }
  });

  void it('stops waiting on cancellation and says so', async () => {
    const session = await fakeDagger.start([{ when: 'exitCode', reply: { hang: true } }]);
    const restore = useSession(session);
    const cancel = new AbortController();
    const progress: string[] = [];
    try {
      const ctx = stageContext({ signal: cancel.signal, onProgress: (line) => progress.push(line) });
      const run = new DaggerRunner({ progressIntervalMs: 50 }).runStage(testPlan(), ctx);
      setTimeout(() => cancel.abort(), 300);
      await assert.rejects(run, StageCancelledError);
      assert.ok(
        progress.some((line) => /step 1\/2 \(npm ci\): running for/.test(line)),
        'quiet steps report progress',
      );
    } finally {
      restore();
      await session.close();
    }
  });

  void it('refuses to let the SDK download a CLI: no engine is EngineNotInstalled with install advice', async () => {
    const saved = { ...process.env };
    delete process.env['DAGGER_SESSION_PORT'];
    delete process.env['_EXPERIMENTAL_DAGGER_CLI_BIN'];
    process.env['PATH'] = mkdtempSync(join(tmpdir(), 'tollgate-empty-path-'));
    try {
      const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
      assert.equal(error.type, FailureType.EngineNotInstalled);
      assert.match(error.message, /install the Dagger CLI/);
    } finally {
      process.env = saved;
    }
  });

  void it('classifies a CLI that cannot be provisioned (D106, wrapped by the SDK) as EngineNotInstalled', () => {
    const d106 = Object.assign(new Error('failed to download dagger cli binary'), { code: 'D106' });
    const wrapped = new Error('failed to execute function with automatic provisioning', { cause: d106 });
    assert.equal(classifyDaggerError(wrapped, [])?.type, FailureType.EngineNotInstalled);
  });

  void it('classifies a session timeout (D104) as EngineUnavailable', () => {
    const d104 = Object.assign(new Error('Engine connection timeout'), { code: 'D104' });
    assert.equal(classifyDaggerError(d104, [])?.type, FailureType.EngineUnavailable);
  });

  void it('keeps the worker alive when the CLI fails to start a session (the D105 stray rejection)', async () => {
    const bin = join(mkdtempSync(join(tmpdir(), 'tollgate-bad-dagger-')), 'dagger');
    writeFileSync(bin, '#!/bin/sh\necho "cannot reach a container runtime" >&2\nexit 1\n');
    chmodSync(bin, 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, _EXPERIMENTAL_DAGGER_CLI_BIN: bin };
    delete env['DAGGER_SESSION_PORT'];
    // A child process: the test runner installs rejection handlers of its own, a worker does not.
    // Found from the repo root (where the tests run) so this file compiles as CommonJS or ESM alike.
    const child = join(process.cwd(), 'dist', 'test', 'support', 'engine-start-failure.js');
    const { stdout } = await promisify(execFile)(process.execPath, [child], { env, timeout: 30_000 });
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { type?: string; alive?: boolean };
    assert.equal(report.type, FailureType.EngineUnavailable);
    assert.equal(report.alive, true);
  });
});
