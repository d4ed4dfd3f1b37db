/**
 * Where one local environment keeps its files: everything lives under `<home>/envs/<app>/<env>/`,
 * so two apps on one worker never share an environment. Environments made by Tollgate 0.1 lie at
 * `<home>/envs/<env>/` and are still found there (their supervisors may still be serving).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Which environment: environments are kept per app (plans of schema 1 runs name none: see envPaths). */
export interface EnvironmentKey {
  app?: string;
  name: string;
}

/** The files and folders of one local environment. */
export interface EnvPaths {
  dir: string;
  state: string;
  pidFile: string;
  supervisorLog: string;
  socket: string;
  releases: string;
  /** The folder its releases share for data (`${TOLLGATE_DATA_DIR}`): databases, uploads. */
  data: string;
}

// A unix socket path must fit in sun_path (108 bytes on Linux); long homes fall back to tmpdir.
const MAX_SOCKET_PATH = 100;

/** The paths of environment `key` under `home`. */
export function envPaths(home: string, key: EnvironmentKey): EnvPaths {
  assertSafeName('environment name', key.name);
  const legacy = join(home, 'envs', key.name);
  // An activity scheduled by the workflow code of Tollgate 0.1 (a worker of a mixed fleet) names no app.
  if (key.app === undefined) return envPathsAt(legacy);
  assertSafeName('app', key.app);
  const current = join(home, 'envs', key.app, key.name);
  const dir =
    !existsSync(join(current, 'state.json')) && legacyStateApp(join(legacy, 'state.json')) === key.app
      ? legacy
      : current;
  return envPathsAt(dir);
}

/** The paths of the environment kept in `dir`. */
export function envPathsAt(dir: string): EnvPaths {
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
    data: join(dir, 'data'),
  };
}

/** The app whose releases a 0.1 environment's state.json holds, when it holds any. */
export function legacyStateApp(stateFile: string): string | undefined {
  try {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      releases?: Record<string, { app?: string }>;
    };
    return Object.values(state.releases ?? {})[0]?.app;
  } catch {
    return undefined;
  }
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

/** App, environment and release names become directory names, so only a safe alphabet is allowed. */
export function assertSafeName(kind: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value)) {
    throw new Error(`invalid ${kind} ${JSON.stringify(value)}: use letters, digits, '.', '_' and '-'`);
  }
}
