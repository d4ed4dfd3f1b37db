/** Finds the environment's supervisor, or starts it detached so it outlives the worker. */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { callControl } from './control-client.js';
import { LocalEnvironmentError } from './errors.js';
import { inheritedEnv } from './launch.js';
import { logTail } from './log-tail.js';
import { FailureType } from '../../failures.js';
import type { EnvPaths } from './paths.js';
import type { RuntimeOptions } from './runtime.js';
import { isAlive } from './processes.js';

/** The compiled supervisor entry, beside this file in dist/. */
const SUPERVISOR_JS = fileURLToPath(new URL('./supervisor.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;
const PING_TIMEOUT_MS = 2000;

/** The supervisor's pid and runtime, when it answers a ping. */
async function pingRuntime(
  paths: EnvPaths,
): Promise<{ pid: number; runtime: RuntimeOptions['kind'] } | null> {
  try {
    const answer = await callControl(paths.socket, 'ping', {}, PING_TIMEOUT_MS);
    return { pid: answer.pid, runtime: answer.runtime ?? 'process' };
  } catch {
    return null;
  }
}

/** The supervisor's pid, when it answers a ping. */
export async function pingSupervisor(paths: EnvPaths): Promise<number | null> {
  return (await pingRuntime(paths))?.pid ?? null;
}

/** A supervisor that runs another driver's releases than the config asks for: stop it first. */
function runtimeMismatch(name: string, running: string, wanted: string): LocalEnvironmentError {
  const driver = (kind: string): string => (kind === 'process' ? 'local' : kind);
  return new LocalEnvironmentError(
    `environment ${name} runs on the ${driver(running)} driver, but the config says driver "${driver(wanted)}": ` +
      `run \`tollgate env stop ${name}\` (its releases stop, its state stays) and deploy again to switch`,
    undefined,
    undefined,
    FailureType.InvalidConfig,
  );
}

/** The pid the pid file names, if that process is alive. */
export async function supervisorPid(paths: EnvPaths): Promise<number | null> {
  try {
    const { pid } = JSON.parse(await readFile(paths.pidFile, 'utf8')) as { pid: number };
    return isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

async function waitForPing(paths: EnvPaths, timeoutMs: number, gone: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gone()) {
    if ((await pingSupervisor(paths)) !== null) return true;
    await sleep(50);
  }
  return (await pingSupervisor(paths)) !== null;
}

/** Makes sure a supervisor serves environment `name` (kept in `paths.dir`) on `port`; a restarted worker just reconnects. */
export async function ensureSupervisor(
  name: string,
  port: number,
  paths: EnvPaths,
  runtime: RuntimeOptions = { kind: 'process' },
): Promise<void> {
  const answer = await pingRuntime(paths);
  if (answer !== null) {
    if (answer.runtime !== runtime.kind) throw runtimeMismatch(name, answer.runtime, runtime.kind);
    return;
  }
  const existing = await supervisorPid(paths);
  if (existing !== null) {
    // Alive but silent: starting up (or wedged, in which case it is replaced).
    if (await waitForPing(paths, 5000, () => !isAlive(existing))) return;
    if (isAlive(existing)) process.kill(existing, 'SIGKILL');
  }
  await mkdir(paths.releases, { recursive: true, mode: 0o700 });
  const logFd = openSync(paths.supervisorLog, 'a', 0o600);
  // Only what its releases inherit: never the worker's secrets, Temporal settings or a test runner's context.
  const env = inheritedEnv(process.env);
  let exited = false;
  try {
    const args = [SUPERVISOR_JS, paths.dir, name, String(port)];
    if (runtime.kind !== 'process') args.push(JSON.stringify(runtime));
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: paths.dir,
      env,
    });
    child.on('exit', () => (exited = true));
    child.on('error', () => (exited = true));
    child.unref();
  } finally {
    closeSync(logFd);
  }
  // If it exited, another driver's supervisor may have won the port: that one answers the ping.
  if (await waitForPing(paths, START_TIMEOUT_MS, () => exited)) return;
  throw new LocalEnvironmentError(
    `supervisor for environment ${name} (port ${port}) did not start; log tail:\n${await logTail(paths.supervisorLog)}`,
  );
}
