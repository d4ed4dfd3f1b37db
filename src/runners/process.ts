/** Runs one command as a child process in its own process group, and can kill the whole group. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import type { StageOutput } from './output.js';

/** How a process ended. */
export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why we stopped it ourselves, if we did. */
  stoppedBy: 'timeout' | 'abort' | null;
}

/** Options for one child process. */
export interface ProcessOptions {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  output: StageOutput;
  signal: AbortSignal;
  /** Absolute deadline (ms since epoch); the group is killed when it passes. */
  deadline: number;
  /** File that records the process group id while it runs, so a later attempt can kill orphans. */
  pidFile: string;
  /** When set, stdout goes to this file instead of the log (stderr still goes to the log). */
  stdoutFile?: string;
  /** How long a group gets between SIGTERM and SIGKILL. */
  graceMs?: number;
}

/** Sends `signal` to a whole process group; false when the group is already gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills a process group left behind by an attempt whose worker died (SIGKILL gives the worker
 * no chance to clean up, and a detached group outlives it). Returns the pgid it killed, if any.
 */
export function killOrphan(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pgid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pgid) || pgid <= 1) return null;
  return killGroup(pgid, 'SIGKILL') ? pgid : null;
}

/** Spawns the command and resolves when it exits (never rejects for a non-zero exit). */
export function runProcess(options: ProcessOptions): Promise<ProcessExit> {
  const { argv, cwd, env, output, signal, deadline, pidFile, graceMs = 3000 } = options;
  const [command, ...args] = argv;
  if (!command) throw new Error('runProcess: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env,
      // Its own process group: cancellation kills the step and everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stoppedBy: ProcessExit['stoppedBy'] = null;
    let killTimer: NodeJS.Timeout | undefined;

    const stop = (reason: 'timeout' | 'abort'): void => {
      if (stoppedBy || child.pid === undefined) return;
      stoppedBy = reason;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), graceMs);
    };
    const onAbort = (): void => stop('abort');
    const timer = setTimeout(() => stop('timeout'), Math.max(0, deadline - Date.now()));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    if (child.pid !== undefined) writeFileSync(pidFile, String(child.pid));
    const stdoutSink = options.stdoutFile ? createWriteStream(options.stdoutFile) : null;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    if (stdoutSink) child.stdout.pipe(stdoutSink);
    else child.stdout.on('data', (chunk: string) => output.write(chunk));
    child.stderr.on('data', (chunk: string) => output.write(chunk));

    child.once('error', (error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      rmSync(pidFile, { force: true });
      reject(error);
    });
    // The leader has exited: nothing it started may linger in the group (or hold its pipes open).
    child.once('exit', () => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    });
    child.once('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      signal.removeEventListener('abort', onAbort);
      rmSync(pidFile, { force: true });
      const finish = (): void => resolve({ exitCode, signal: exitSignal, stoppedBy });
      if (stdoutSink) stdoutSink.end(finish);
      else finish();
    });
  });
}
