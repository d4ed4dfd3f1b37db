/** Unpacks a release tarball into its directory: verified, into a temp dir, then renamed into place. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { x as extract } from 'tar';
import type { ArtifactRef } from '../../types.js';

/** `sha256:<hex>` of a file. */
export async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}

/** Checks the artifact, replaces `dir` with its contents, and returns once package.json is there. */
export async function unpackRelease(artifact: ArtifactRef, dir: string): Promise<void> {
  if (artifact.kind !== 'tarball')
    throw new Error(`the local environment runs tarballs, not ${artifact.kind}`);
  if (artifact.digest.startsWith('sha256:')) {
    const actual = await fileDigest(artifact.path);
    if (actual !== artifact.digest)
      throw new Error(`artifact ${artifact.path} is ${actual}, expected ${artifact.digest}`);
  }
  const temp = join(dirname(dir), `.unpack-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { recursive: true, mode: 0o700 });
  try {
    // tar strips absolute paths and refuses entries that climb out of `cwd`.
    await extract({ file: artifact.path, cwd: temp, strict: true });
    await stat(join(temp, 'package.json')).catch(() => {
      throw new Error(`artifact ${artifact.path} has no package.json at its root`);
    });
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
  } finally {
    // Best effort: a failed cleanup must not hide the error that caused it.
    await rm(temp, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
}
