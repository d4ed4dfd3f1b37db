/**
 * One Dagger session per call. Tollgate starts the CLI's `dagger session` itself (the SDK would too,
 * but with a five-minute connect timeout, no deadline of ours, and a child it never kills when the
 * caller gives up): here connecting has a deadline of its own, the session runs in a process group
 * of its own, and that group is killed on abort, on timeout and when the worker exits. The SDK then
 * connects to the session it printed, the documented way (DAGGER_SESSION_PORT and _TOKEN).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import type { Writable } from 'node:stream';
import type * as DaggerModule from '@dagger.io/dagger';
import type { Client } from '@dagger.io/dagger';
import { detectDagger } from './dagger-detect.js';
import { EngineSessionStartError, INSTALL_HINT } from './dagger-errors.js';

/** The SDK module's exports. */
export type DaggerSdk = typeof DaggerModule;

/** How long `dagger session` may take to print its connect parameters, unless the caller says. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;
/** After its stdin closes, how long a session may take to exit before SIGTERM (and as long again before SIGKILL). */
const CLOSE_GRACE_MS = 5_000;

let sdk: Promise<DaggerSdk> | undefined;

/** Loads `@dagger.io/dagger` on first use: it is ESM-only, and the host-only path must never load it. */
export function loadDaggerSdk(): Promise<DaggerSdk> {
  sdk ??= import('@dagger.io/dagger').catch((error: unknown) => {
    sdk = undefined;
    throw error;
  });
  return sdk;
}

/** Where sessions come from: an existing one (under `dagger run`), or a CLI Tollgate starts. */
export type EngineSource = { session: { port: string; token: string } } | { cliBin: string };

/**
 * Finds the engine to use; a string says why there is none. Never lets the SDK download a CLI:
 * without one, the stage fails with install advice instead.
 */
export function prepareEngine(cliBin?: string): EngineSource | string {
  const detection = detectDagger(process.env);
  const port = process.env['DAGGER_SESSION_PORT'];
  const token = process.env['DAGGER_SESSION_TOKEN'];
  if (port) {
    return detection.available && token
      ? { session: { port, token } }
      : `${detection.reason}: ${INSTALL_HINT}`;
  }
  const bin = cliBin ?? detection.cliBin;
  return bin ? { cliBin: bin } : `${detection.reason}: ${INSTALL_HINT}`;
}

/** How withDaggerSession connects. */
export interface SessionOptions {
  /** Aborting stops waiting, ends the call and kills the session. */
  signal: AbortSignal;
  /** From prepareEngine. */
  engine: EngineSource;
  /** Deadline for the session's connect parameters (default DEFAULT_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  /** Receives the CLI's own progress (its stderr), for debugging. */
  logOutput?: Writable;
}

/**
 * Runs `work` with a client of its own. `connect()`, not `connection()`: activities run in parallel
 * in one worker, and concurrent `connection()` calls share (and reset) the global `dag` client.
 * Throws the abort reason when aborted, and EngineSessionStartError when no session could be had.
 */
export async function withDaggerSession<T>(
  dagger: DaggerSdk,
  work: (client: Client) => Promise<T>,
  options: SessionOptions,
): Promise<T> {
  const { signal, engine } = options;
  signal.throwIfAborted();
  if ('session' in engine) return runInSession(dagger, engine.session, work, signal);
  const session = await startSession(engine.cliBin, options);
  try {
    return await runInSession(dagger, session.connect, work, signal);
  } finally {
    await session.close();
  }
}

/** A `dagger session` process Tollgate started, and how to reach it. */
interface StartedSession {
  connect: { port: string; token: string };
  close(): Promise<void>;
}

/** Sessions still running, killed when the process exits (a worker stopped mid-stage leaves none). */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts `cliBin session` and waits, up to the deadline, for the line with its port and token. */
async function startSession(cliBin: string, options: SessionOptions): Promise<StartedSession> {
  const { signal } = options;
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  installExitHook();
  const labels = ['--label', 'dagger.io/sdk.name:nodejs'];
  // detached: its own process group, so killing it also kills whatever it started. Its stdin stays
  // open: `dagger session` ends when its stdin closes, which is how it is asked to stop.
  const child = spawn(cliBin, ['session', ...labels], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  live.add(child);
  child.stdin?.on('error', () => undefined); // EPIPE when it has already gone: `exited` says so
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
    options.logOutput?.write(chunk);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => {
      live.delete(child);
      resolve();
    });
  });
  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end(); // the orderly way: the session flushes and exits
    const term = setTimeout(() => killGroup(child, 'SIGTERM'), CLOSE_GRACE_MS);
    const kill = setTimeout(() => killGroup(child, 'SIGKILL'), 2 * CLOSE_GRACE_MS);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  };
  const runnerHost = process.env['_EXPERIMENTAL_DAGGER_RUNNER_HOST'];
  const tried = `\`${cliBin} session\`${runnerHost ? ` with _EXPERIMENTAL_DAGGER_RUNNER_HOST=${runnerHost}` : ''}`;
  try {
    const connect = await untilAborted(
      connectParams(child, exited, () => stderr, tried, timeoutMs),
      signal,
    );
    return { connect, close };
  } catch (error) {
    killGroup(child, 'SIGKILL');
    await exited;
    throw error;
  }
}

/** The first stdout line `{"port":…,"session_token":…}`, or why it did not come. */
function connectParams(
  child: ChildProcess,
  exited: Promise<void>,
  stderr: () => string,
  tried: string,
  timeoutMs: number,
): Promise<{ port: string; token: string }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const done = (outcome: () => void): void => {
      clearTimeout(deadline);
      lines.close();
      outcome();
    };
    const deadline = setTimeout(() => {
      done(() =>
        reject(
          new EngineSessionStartError(
            `no engine session within ${timeoutMs / 1000}s from ${tried}${tail(stderr())}: check that the engine runs and answers there`,
          ),
        ),
      );
    }, timeoutMs);
    child.once('error', (error) =>
      done(() => reject(new EngineSessionStartError(`${tried} could not start: ${error.message}`))),
    );
    lines.once('line', (line) => {
      let params: { port?: unknown; session_token?: unknown } = {};
      try {
        params = JSON.parse(line) as typeof params;
      } catch {
        // reported below
      }
      if (typeof params.port === 'number' && typeof params.session_token === 'string') {
        const { port, session_token: token } = params;
        done(() => resolve({ port: String(port), token }));
      } else {
        done(() => reject(new EngineSessionStartError(`${tried} printed unreadable connect parameters`)));
      }
    });
    void exited.then(() =>
      done(() =>
        reject(
          new EngineSessionStartError(
            `${tried} exited with ${child.exitCode ?? child.signalCode} before it connected${tail(stderr())}`,
          ),
        ),
      ),
    );
  });
}

/**
 * Runs `work` through the SDK's connect() against a session. The SDK reads the session from
 * process.env when connect() is called, synchronously, before its first await; so the variables are
 * set and restored around that call only, and concurrent sessions never see each other's.
 */
async function runInSession<T>(
  dagger: DaggerSdk,
  session: { port: string; token: string },
  work: (client: Client) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  const saved = { port: process.env['DAGGER_SESSION_PORT'], token: process.env['DAGGER_SESSION_TOKEN'] };
  process.env['DAGGER_SESSION_PORT'] = session.port;
  process.env['DAGGER_SESSION_TOKEN'] = session.token;
  let connected: Promise<void>;
  try {
    // The callback never throws: the SDK would wrap our errors in its own.
    connected = dagger.connect(async (client) => {
      if (signal.aborted) return;
      const running = work(client);
      running.catch(() => undefined); // after an abort nobody awaits it; a late failure must not go unhandled
      try {
        outcome = { value: await untilAborted(running, signal) };
      } catch (error) {
        outcome = { error };
      }
    });
  } finally {
    restoreEnv('DAGGER_SESSION_PORT', saved.port);
    restoreEnv('DAGGER_SESSION_TOKEN', saved.token);
  }
  connected.catch(() => undefined); // same, when the abort wins the race below
  try {
    await untilAborted(connected, signal);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new EngineSessionStartError(error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
  if (outcome === undefined)
    throw signal.aborted
      ? signal.reason
      : new EngineSessionStartError('the session closed before the call ran');
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

function tail(stderr: string): string {
  // The CLI colours its progress; a message in a log or a CI annotation wants the words only.
  const lines = stripVTControlCharacters(stderr)
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-3)
    .join(' / ');
  return lines ? ` (it said: ${lines})` : '';
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = (): void => reject(signal.reason as Error);
  });
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  // Once settled the listener is gone, so `aborted` can never reject unobserved.
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** What the engine said when asked, for `runner: auto` and `tollgate doctor`. */
export interface EngineAnswer {
  ok: boolean;
  /** The engine's version, or why it did not answer. */
  detail: string;
  /** How long the answer took. */
  ms: number;
}

/** Asks the engine for its version within `timeoutMs`: a CLI on PATH is not an engine that runs. */
export async function askEngine(engine: EngineSource, timeoutMs: number): Promise<EngineAnswer> {
  const started = Date.now();
  // A little past the connect deadline: a session that never starts is reported with what the CLI said.
  const signal = AbortSignal.timeout(timeoutMs + 2000);
  try {
    const dagger = await loadDaggerSdk();
    const version = await withDaggerSession(dagger, (client) => client.version(), {
      signal,
      engine,
      connectTimeoutMs: timeoutMs,
    });
    return { ok: true, detail: `engine ${version} answered`, ms: Date.now() - started };
  } catch (error) {
    const reason = signal.aborted
      ? `no answer within ${(timeoutMs + 2000) / 1000}s`
      : error instanceof Error
        ? error.message
        : String(error);
    return { ok: false, detail: reason, ms: Date.now() - started };
  }
}
