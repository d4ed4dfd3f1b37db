/** detectDagger's choice for each combination of engine settings (contract with the worker's `runner: auto`). */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detectDagger } from '../../src/runners/dagger-detect.js';

/** A directory holding a `dagger` file (or another program), executable or not. */
function binDir(executable: boolean, name = 'dagger'): { dir: string; bin: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-detect-'));
  const bin = join(dir, name);
  writeFileSync(bin, '#!/bin/sh\nexit 0\n');
  chmodSync(bin, executable ? 0o755 : 0o644);
  return { dir, bin };
}

void describe('detectDagger (contract)', () => {
  void it('uses an existing session when DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN are set', () => {
    const found = detectDagger({ DAGGER_SESSION_PORT: '41234', DAGGER_SESSION_TOKEN: 't', PATH: '' });
    assert.equal(found.available, true);
    assert.equal(found.cliBin, undefined);
    assert.match(found.reason, /41234/);
  });

  void it('prefers the session over a CLI', () => {
    const { bin } = binDir(true);
    const found = detectDagger({
      DAGGER_SESSION_PORT: '41234',
      DAGGER_SESSION_TOKEN: 't',
      _EXPERIMENTAL_DAGGER_CLI_BIN: bin,
    });
    assert.equal(found.available, true);
    assert.equal(found.cliBin, undefined);
  });

  void it('is unavailable with a port but no token, or a port that is not a port', () => {
    assert.equal(detectDagger({ DAGGER_SESSION_PORT: '41234' }).available, false);
    assert.match(detectDagger({ DAGGER_SESSION_PORT: '41234' }).reason, /DAGGER_SESSION_TOKEN/);
    assert.equal(detectDagger({ DAGGER_SESSION_PORT: 'abc', DAGGER_SESSION_TOKEN: 't' }).available, false);
  });

  void it('uses _EXPERIMENTAL_DAGGER_CLI_BIN when it is executable, and says so when it is not', () => {
    const good = binDir(true);
    const docker = binDir(true, 'docker');
    const pinned = detectDagger({ _EXPERIMENTAL_DAGGER_CLI_BIN: good.bin, PATH: docker.dir });
    assert.equal(pinned.available, true);
    assert.equal(pinned.cliBin, good.bin);
    const bad = binDir(false);
    const other = binDir(true);
    const found = detectDagger({
      _EXPERIMENTAL_DAGGER_CLI_BIN: bad.bin,
      PATH: [other.dir, docker.dir].join(':'),
    });
    assert.equal(found.available, false, 'a broken pinned CLI is not silently replaced by one on PATH');
    assert.match(found.reason, /not an executable/);
  });

  void it('finds dagger on PATH and returns its path for _EXPERIMENTAL_DAGGER_CLI_BIN', () => {
    const notExecutable = binDir(false);
    const { dir, bin } = binDir(true);
    const podman = binDir(true, 'podman');
    const found = detectDagger({ PATH: ['relative/dir', notExecutable.dir, dir, podman.dir].join(':') });
    assert.equal(found.available, true);
    assert.equal(found.cliBin, bin);
    assert.match(found.reason, new RegExp(`engine started with ${podman.bin}`));
  });

  void it('passes over a CLI with nowhere to start its engine, but still hands it to runner: dagger', () => {
    const { dir, bin } = binDir(true);
    const notExecutable = binDir(false, 'docker');
    const found = detectDagger({ PATH: [dir, notExecutable.dir].join(':') });
    assert.equal(found.available, false, 'auto picks the host runner');
    assert.equal(found.cliBin, bin);
    assert.match(
      found.reason,
      /no docker, podman, nerdctl, finch on PATH and _EXPERIMENTAL_DAGGER_RUNNER_HOST unset/,
    );
    const remote = detectDagger({ PATH: dir, _EXPERIMENTAL_DAGGER_RUNNER_HOST: 'tcp://127.0.0.1:1234' });
    assert.equal(remote.available, true, 'an engine the CLI can reach counts as well');
  });

  void it('is unavailable with nothing set, and explains what it looked for', () => {
    const found = detectDagger({ PATH: mkdtempSync(join(tmpdir(), 'tollgate-empty-')) });
    assert.equal(found.available, false);
    assert.match(found.reason, /DAGGER_SESSION_PORT.*_EXPERIMENTAL_DAGGER_CLI_BIN.*PATH/);
  });
});
