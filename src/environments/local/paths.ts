/** Where one local environment keeps its files: everything lives under `<home>/envs/<env>/`. */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The files and folders of one local environment. */
export interface EnvPaths {
  dir: string;
  state: string;
  pidFile: string;
  supervisorLog: string;
  socket: string;
  releases: string;
}

// A unix socket path must fit in sun_path (108 bytes on Linux); long homes fall back to tmpdir.
const MAX_SOCKET_PATH = 100;

/** The paths of environment `name` under `home`. */
export function envPaths(home: string, name: string): EnvPaths {
  const dir = join(home, 'envs', name);
  const local = join(dir, 'control.sock');
  const hashed = join(
    tmpdir(),
    `tollgate-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`,
  );
  return {
    dir,
    state: join(dir, 'state.json'),
    pidFile: join(dir, 'supervisor.pid'),
    supervisorLog: join(dir, 'supervisor.log'),
    socket: Buffer.byteLength(local) <= MAX_SOCKET_PATH ? local : hashed,
    releases: join(dir, 'releases'),
  };
}

/** The unpacked directory, log and launch file (argv + env, mode 0600) of one release. */
export function releasePaths(
  paths: EnvPaths,
  releaseId: string,
): { dir: string; log: string; launch: string } {
  return {
    dir: join(paths.releases, releaseId),
    log: join(paths.releases, `${releaseId}.log`),
    launch: join(paths.releases, `${releaseId}.launch.json`),
  };
}

/** Environment and release names become directory names, so only a safe alphabet is allowed. */
export function assertSafeName(kind: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value)) {
    throw new Error(`invalid ${kind} ${JSON.stringify(value)}: use letters, digits, '.', '_' and '-'`);
  }
}
