/**
 * Starting one release process and waiting for readiness. The argv and env (secrets included) are
 * kept in a 0600 launch file beside the release, so a restarted supervisor can start it again
 * without the worker; state.json never holds them.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { probe } from './net.js';
import { LocalEnvironmentError } from './errors.js';

/** How to start a release: what the worker resolved at deploy time. */
export interface LaunchSpec {
  start: string[];
  env: Record<string, string>;
  /** Docker: the secrets, kept apart from `env` (they reach the container as a tmpfs file only). */
  secrets?: Record<string, string>;
}

/**
 * Variables a release inherits from the supervisor, which is itself started with only these: the
 * worker's own settings and secrets stay out of both (a release's secrets come in its launch file).
 */
export const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SYSTEMROOT'] as const;

/** The part of `env` a supervisor or a release may see. */
export function inheritedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of INHERITED_ENV) {
    const value = env[key];
    if (value !== undefined) kept[key] = value;
  }
  return kept;
}

/** Grace between SIGTERM and SIGKILL when a release stops. */
export const STOP_GRACE_MS = 5000;

/** Writes the launch file (owner-only: it holds secret values). */
export async function writeLaunch(file: string, launch: LaunchSpec): Promise<void> {
  await writeFile(file, JSON.stringify(launch), { mode: 0o600 });
}

/** Reads the launch file back. */
export async function readLaunch(file: string): Promise<LaunchSpec> {
  return JSON.parse(await readFile(file, 'utf8')) as LaunchSpec;
}

/** Spawns the release in its own process group, output appended to its log; returns its pid. */
export function spawnRelease(
  dir: string,
  launch: LaunchSpec,
  port: number,
  logPath: string,
  onExit: (pid: number, code: number | null, signal: string | null) => void,
): number {
  const [command, ...args] = launch.start;
  if (!command) throw new LocalEnvironmentError('release start command is empty');
  const env = { ...inheritedEnv(process.env), NODE_ENV: 'production', ...launch.env, PORT: String(port) };
  const log = openSync(logPath, 'a', 0o600);
  try {
    // 'node' means the Node that runs Tollgate, so a release never depends on the worker's PATH.
    const child = spawn(command === 'node' ? process.execPath : command, args, {
      cwd: dir,
      env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined)
      throw new LocalEnvironmentError(`could not start ${launch.start.join(' ')} in ${dir}`);
    const pid = child.pid;
    child.on('error', () => undefined); // a spawn failure shows up as the exit below
    child.on('exit', (code, sig) => onExit(pid, code, sig));
    return pid;
  } finally {
    closeSync(log);
  }
}

/** What readiness needs to know about a starting release, whatever runs it. */
export interface ReadyWatch {
  releaseId: string;
  url: string;
  timeoutMs: number;
  /** False once the release has exited. */
  alive: () => Promise<boolean>;
  /** Its last output, for the error. */
  tail: () => Promise<string>;
  /** Stops it when it was not ready in time. */
  stop: () => Promise<void>;
}

/** Waits until `url` answers 200; stops the release and throws with its output if it dies or times out. */
export async function awaitReady(options: ReadyWatch): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (!(await options.alive())) {
      const tail = await options.tail();
      throw new LocalEnvironmentError(
        `release ${options.releaseId} exited before it was ready (${options.url}); log tail:\n${tail}`,
        options.releaseId,
        tail,
      );
    }
    const result = await probe(options.url, Math.min(2000, Math.max(100, deadline - Date.now())));
    if (result.status === 200) return;
    last = result.status === null ? (result.error ?? 'no answer') : `HTTP ${result.status}`;
    await sleep(100);
  }
  await options.stop();
  const tail = await options.tail();
  throw new LocalEnvironmentError(
    `release ${options.releaseId} was not ready within ${options.timeoutMs} ms (${options.url}: ${last}); log tail:\n${tail}`,
    options.releaseId,
    tail,
  );
}
