/**
 * A release's secrets for its container: one file on a memory file system (tmpfs), in a folder only
 * the supervisor's user may enter, bind-mounted read-only. Never an image layer, a label or
 * the container's Env (which `docker inspect` prints).
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FailureType } from '../../failures.js';
import { LocalEnvironmentError } from '../local/errors.js';

/** statfs type of tmpfs on Linux. */
const TMPFS_MAGIC = 0x01021994;
/** Where the file may live, first tmpfs wins. */
const CANDIDATES = ['/dev/shm', '/run'];
/** Where the container sees it. */
export const SECRETS_MOUNT = '/run/tollgate/secrets.env';

/** The first candidate folder that is a tmpfs, or an error naming the fix. */
async function memoryDir(): Promise<string> {
  for (const dir of CANDIDATES) {
    const info = await statfs(dir).catch(() => null);
    if (info && info.type === TMPFS_MAGIC) return dir;
  }
  throw new LocalEnvironmentError(
    `no memory file system for release secrets (${CANDIDATES.join(', ')} are not tmpfs): mount a tmpfs at /dev/shm`,
    undefined,
    undefined,
    FailureType.InvalidConfig,
  );
}

/** The secrets file of one release of the environment kept in `envDir`. */
export async function secretsPath(envDir: string, releaseId: string): Promise<string> {
  const key = createHash('sha256').update(envDir).digest('hex').slice(0, 16);
  return join(await memoryDir(), `tollgate-${key}`, `${releaseId}.env`);
}

/** `KEY='value'` lines a POSIX shell reads with `set -a; . file` (single quotes, each ' as '\''). */
export function shellEnvFile(secrets: Record<string, string>): string {
  return Object.entries(secrets)
    .map(([key, value]) => `${key}='${value.split("'").join(`'\\''`)}'\n`)
    .join('');
}

/**
 * Writes the file: its folder 0700 (no other host user gets in), the file 0444 so the container's
 * user reads it through the bind mount whatever its uid (inside the container only the release runs).
 */
export async function writeSecrets(file: string, secrets: Record<string, string>): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await rm(file, { force: true, recursive: true });
  await writeFile(file, shellEnvFile(secrets), { mode: 0o444 });
}

/** Deletes a release's secrets file. */
export async function removeSecrets(file: string): Promise<void> {
  await rm(file, { force: true });
}
