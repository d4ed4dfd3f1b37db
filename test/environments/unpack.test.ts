/** unpackRelease: real tarballs through real tar; refusals leave nothing behind. */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { c as createTar } from 'tar';
import { fileDigest, unpackRelease } from '../../src/environments/local/unpack.js';
import type { ArtifactRef } from '../../src/types.js';
import { fixtureArtifact, removeHome, tempHome } from './local-harness.js';

const homes: string[] = [];
after(async () => {
  for (const home of homes) await removeHome(home);
});

async function home(): Promise<string> {
  const dir = await tempHome();
  homes.push(dir);
  return dir;
}

/** The release directories a failed unpack could have left in `parent`. */
function leftovers(parent: string): string[] {
  return readdirSync(parent).filter((name) => name.startsWith('.unpack-') || name === 'release');
}

describe('unpackRelease', () => {
  it('replaces the release directory with the tarball’s contents', async () => {
    const dir = await home();
    const artifact = await fixtureArtifact(dir, 'app');
    const target = join(dir, 'release');
    await unpackRelease(artifact, target);
    assert.ok(existsSync(join(target, 'package.json')));
    assert.ok(existsSync(join(target, 'dist/server.js')));
    await unpackRelease(artifact, target);
    assert.deepEqual(leftovers(dir), ['release'], 'a second unpack leaves no temporary directory');
  });

  it('refuses a tarball whose digest is not the build’s, before extracting anything', async () => {
    const dir = await home();
    const artifact = await fixtureArtifact(dir, 'app');
    const tampered: ArtifactRef = { ...artifact, digest: `sha256:${'0'.repeat(64)}` };
    await assert.rejects(
      unpackRelease(tampered, join(dir, 'release')),
      /is sha256:[0-9a-f]{64}, expected sha256:0{64}/,
    );
    assert.deepEqual(leftovers(dir), []);
  });

  it('refuses a member that would climb out of the release directory', async () => {
    const dir = await home();
    const inner = join(dir, 'inner');
    mkdirSync(inner);
    writeFileSync(join(inner, 'package.json'), '{}');
    writeFileSync(join(dir, 'escape.txt'), 'outside');
    const path = join(dir, 'evil.tgz');
    // preservePaths keeps the `../` in the member name, as a hostile archive would.
    await createTar({ gzip: true, file: path, cwd: inner, preservePaths: true }, [
      'package.json',
      '../escape.txt',
    ]);
    const artifact: ArtifactRef = { kind: 'tarball', path, sizeBytes: 0, digest: await fileDigest(path) };
    const target = join(dir, 'deep', 'release');
    mkdirSync(join(dir, 'deep'));
    await assert.rejects(unpackRelease(artifact, target), /tar could not unpack .*\.\./);
    assert.equal(readFileSync(join(dir, 'escape.txt'), 'utf8'), 'outside');
    assert.deepEqual(leftovers(join(dir, 'deep')), [], 'no partial release left');
  });

  it('stops a tar that never finishes at the deadline and leaves nothing behind (fake tar that hangs)', async () => {
    const dir = await home();
    const artifact = await fixtureArtifact(dir, 'app');
    const hanging = join(dir, 'hanging-tar');
    writeFileSync(hanging, '#!/bin/sh\nexec sleep 600\n');
    chmodSync(hanging, 0o755);
    await assert.rejects(
      unpackRelease(artifact, join(dir, 'release'), { tar: hanging, timeoutMs: 300 }),
      /unpacking .*app\.tar\.gz took longer than 300 ms and was stopped/,
    );
    assert.deepEqual(leftovers(dir), []);
  });

  it('says how to fix a missing tar', async () => {
    const dir = await home();
    const artifact = await fixtureArtifact(dir, 'app');
    await assert.rejects(
      unpackRelease(artifact, join(dir, 'release'), { tar: join(dir, 'no-such-tar') }),
      /no-such-tar was not found: install GNU tar/,
    );
  });
});
