/** Unpacks a release tarball into its directory: verified, into a temp dir, then renamed into place. */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { ArtifactRef } from '../../types.js';

/** Longest an unpack may take; well under the 90 s the worker waits for a deploy's answer. */
export const UNPACK_TIMEOUT_MS = 60_000;

/** How unpackRelease extracts (tests pass their own). */
export interface UnpackOptions {
  timeoutMs?: number;
  /** The tar program: GNU tar, which the build's packing needs too. */
  tar?: string;
}

/** `sha256:<hex>` of a file. */
export async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}

/** Checks the artifact, replaces `dir` with its contents, and returns once package.json is there. */
export async function unpackRelease(
  artifact: ArtifactRef,
  dir: string,
  options: UnpackOptions = {},
): Promise<void> {
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
    await extract(artifact.path, temp, options);
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

/**
 * Extracts in a child process: the supervisor's event loop keeps serving traffic meanwhile, and a
 * stalled extraction is killed at the deadline instead of holding the environment's queue forever
 * (an in-process extraction once stalled for good on a pending fs call). GNU tar strips leading
 * `/` and refuses members whose names contain `..`; --no-same-owner keeps every file the
 * supervisor's own.
 */
async function extract(file: string, cwd: string, options: UnpackOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? UNPACK_TIMEOUT_MS;
  const tar = options.tar ?? 'tar';
  try {
    await promisify(execFile)(tar, ['-xzf', file, '-C', cwd, '--no-same-owner'], {
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 1024 * 1024,
    });
  } catch (error) {
    const failed = error as NodeJS.ErrnoException & { killed?: boolean; stderr?: string };
    if (failed.code === 'ENOENT') {
      throw new Error(`${tar} was not found: install GNU tar where the environment's supervisor runs`, {
        cause: error,
      });
    }
    if (failed.killed) {
      throw new Error(`unpacking ${file} took longer than ${timeoutMs} ms and was stopped`, { cause: error });
    }
    const detail = (failed.stderr ?? '').trim().split('\n').slice(-3).join('; ');
    throw new Error(`tar could not unpack ${file}: ${detail || failed.message}`, { cause: error });
  }
}
