/** detectDagger's choice for each combination of engine settings (contract with the worker's `runner: auto`). */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detectDagger } from '../../src/runners/dagger-detect.js';

/** A directory holding a `dagger` file, executable or not. */
function binDir(executable: boolean): { dir: string; bin: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-detect-'));
  const bin = join(dir, 'dagger');
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
    assert.deepEqual(detectDagger({ _EXPERIMENTAL_DAGGER_CLI_BIN: good.bin, PATH: '' }).cliBin, good.bin);
    const bad = binDir(false);
    const other = binDir(true);
    const found = detectDagger({ _EXPERIMENTAL_DAGGER_CLI_BIN: bad.bin, PATH: other.dir });
    assert.equal(found.available, false, 'a broken pinned CLI is not silently replaced by one on PATH');
    assert.match(found.reason, /not an executable/);
  });

  void it('finds dagger on PATH and returns its path for _EXPERIMENTAL_DAGGER_CLI_BIN', () => {
    const notExecutable = binDir(false);
    const { dir, bin } = binDir(true);
    const found = detectDagger({ PATH: ['relative/dir', notExecutable.dir, dir].join(':') });
    assert.equal(found.available, true);
    assert.equal(found.cliBin, bin);
  });

  void it('is unavailable with nothing set, and explains what it looked for', () => {
    const found = detectDagger({ PATH: mkdtempSync(join(tmpdir(), 'tollgate-empty-')) });
    assert.equal(found.available, false);
    assert.match(found.reason, /DAGGER_SESSION_PORT.*_EXPERIMENTAL_DAGGER_CLI_BIN.*PATH/);
  });
});
