/** `tollgate env status [name]` and `tollgate env stop <name>`: what the local environments run, per app. */
import { printJson } from '../cli/json.js';
import { existsSync } from 'node:fs';
import {
  envPaths,
  environmentStatus,
  listLocalEnvironments,
  stopEnvironment,
  type EnvironmentKey,
} from '../environments/local/index.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { callControl } from '../environments/local/control-client.js';
import { pingSupervisor } from '../environments/local/launcher.js';
import { logTail } from '../environments/local/log-tail.js';
import { loadConfig, DEFAULT_CONFIG_FILE } from '../config/index.js';
import { loadSettings } from '../settings.js';

/** Options of `tollgate env status|stop`. */
export interface EnvOptions {
  json?: boolean;
  /** Only this app's environments; default: the app of ./tollgate.config.ts when there is one, else every app. */
  app?: string;
}

/** Shows each environment's proxy, current and previous release, and its release processes. */
export async function envStatus(name: string | undefined, options: EnvOptions): Promise<number> {
  const { home } = loadSettings();
  const keys = await matching(home, name, options, false);
  const statuses = await Promise.all(keys.map((key) => environmentStatus(home, key)));
  if (options.json) {
    printJson('env status', { environments: statuses });
    return ExitCode.Ok;
  }
  if (statuses.length === 0) console.log(`No environments under ${home} yet.`);
  for (const s of statuses) {
    console.log(
      `${s.app}/${s.name}: ${s.url ?? '(no proxy)'} — supervisor ${s.supervisorPid ? `pid ${s.supervisorPid}` : 'not running'}`,
    );
    console.log(`  current:  ${s.current ?? '-'}\n  previous: ${s.previous ?? '-'}`);
    if (s.canary)
      console.log(
        `  canary:   ${s.canary.releaseId} (${s.canary.weight} % of customers since ${s.canary.since})`,
      );
    for (const r of s.releases) console.log(`  release ${r.releaseId} ${r.alive ? 'running' : 'stopped'}`);
  }
  return ExitCode.Ok;
}

/** Stops an environment's proxy and releases (its state is kept; the next deploy starts it again). */
export async function envStop(name: string, options: EnvOptions): Promise<number> {
  const { home } = loadSettings();
  const [key] = await matching(home, name, options, true);
  await stopEnvironment(envPaths(home, key!));
  console.log(`Stopped ${key!.app}/${key!.name}.`);
  return ExitCode.Ok;
}

/** Options of `tollgate env logs`. */
export interface EnvLogsOptions extends EnvOptions {
  release?: string;
  bytes?: number;
}

/** Prints the end of a release's output: through the supervisor (log file or container), else from the log file. */
export async function envLogs(name: string, options: EnvLogsOptions): Promise<number> {
  const { home } = loadSettings();
  const [key] = await matching(home, name, options, true);
  const paths = envPaths(home, key!);
  const bytes = options.bytes && options.bytes > 0 ? options.bytes : 4096;
  if ((await pingSupervisor(paths)) !== null) {
    const { releaseId, tail } = await callControl(
      paths.socket,
      'logs',
      { ...(options.release ? { releaseId: options.release } : {}), bytes },
      30_000,
    ).catch((err: Error) => {
      throw new ExitError(ExitCode.BadInput, err.message);
    });
    if (releaseId === null)
      throw new ExitError(
        ExitCode.BadInput,
        `${key!.app}/${name} serves no release: name one with --release`,
      );
    if (options.json) printJson('env logs', { releaseId, tail });
    else
      process.stdout.write(`== ${key!.app}/${name} ${releaseId}\n${tail}${tail.endsWith('\n') ? '' : '\n'}`);
    return ExitCode.Ok;
  }
  // No supervisor: a process's log file is still on disk; a container's logs are the engine's.
  const status = await environmentStatus(home, key!);
  const id = options.release ?? status.current;
  const record = status.releases.find((r) => r.releaseId === id);
  if (!record)
    throw new ExitError(ExitCode.BadInput, `no release ${id ?? '(none serving)'} in ${key!.app}/${name}`);
  if (record.container)
    throw new ExitError(
      ExitCode.BadInput,
      `${key!.app}/${name} is stopped; its container keeps its logs: docker logs ${record.container.slice(0, 12)}`,
    );
  const tail = await logTail(record.logPath, bytes);
  if (options.json) printJson('env logs', { releaseId: record.releaseId, tail });
  else process.stdout.write(`== ${key!.app}/${name} ${record.releaseId} (stopped)\n${tail}`);
  return ExitCode.Ok;
}

/**
 * The environments a command means: `name` (if given) of the app from --app, else of the config in
 * this folder; with neither, every app's (but `one` needs a single match). Unknown ones exit 2.
 */
async function matching(
  home: string,
  name: string | undefined,
  options: EnvOptions,
  one: boolean,
): Promise<EnvironmentKey[]> {
  const all = await listLocalEnvironments(home);
  const app = options.app ?? (await appOfConfigHere());
  const keys = all.filter((k) => (!app || k.app === app) && (!name || k.name === name));
  const known = all.map((k) => `${k.app}/${k.name}`).join(', ') || 'none yet';
  if (name && keys.length === 0) {
    throw new ExitError(
      ExitCode.BadInput,
      `no environment "${name}"${app ? ` of ${app}` : ''} under ${home}: known: ${known}`,
    );
  }
  if (one && keys.length > 1) {
    throw new ExitError(
      ExitCode.BadInput,
      `several apps have an environment "${name}" (${keys.map((k) => k.app).join(', ')}): say which with --app <name>`,
    );
  }
  return keys;
}

/** The app of ./tollgate.config.ts, when there is a loadable one (else every app is meant). */
async function appOfConfigHere(): Promise<string | undefined> {
  if (!existsSync(DEFAULT_CONFIG_FILE)) return undefined;
  return loadConfig(DEFAULT_CONFIG_FILE)
    .then((config) => config.app)
    .catch(() => undefined);
}
