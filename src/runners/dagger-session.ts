/** One Dagger session per call: loads the SDK lazily, honours an abort signal, isolates engine start failures. */
import type { Writable } from 'node:stream';
import type * as DaggerModule from '@dagger.io/dagger';
import type { Client } from '@dagger.io/dagger';
import { detectDagger } from './dagger-detect.js';
import { EngineSessionStartError, INSTALL_HINT } from './dagger-errors.js';
import { installEngineSessionGuard, recentEngineSessionFailure } from './dagger-guard.js';

/** The SDK module's exports. */
export type DaggerSdk = typeof DaggerModule;

let sdk: Promise<DaggerSdk> | undefined;

/** Loads `@dagger.io/dagger` on first use: it is ESM-only, and the host-only path must never load it. */
export function loadDaggerSdk(): Promise<DaggerSdk> {
  sdk ??= import('@dagger.io/dagger').catch((error: unknown) => {
    sdk = undefined;
    throw error;
  });
  return sdk;
}

/**
 * Points the SDK at an engine; returns why there is none, or undefined when ready. The SDK reads its
 * settings from process.env only, and without a CLI it downloads one on every connect: never let it.
 */
export function prepareEngine(cliBin?: string): string | undefined {
  const detection = detectDagger(process.env);
  if (process.env['DAGGER_SESSION_PORT'])
    return detection.available ? undefined : `${detection.reason}: ${INSTALL_HINT}`;
  const bin = cliBin ?? detection.cliBin;
  if (!bin) return `${detection.reason}: ${INSTALL_HINT}`;
  process.env['_EXPERIMENTAL_DAGGER_CLI_BIN'] = bin;
  return undefined;
}

/** How withDaggerSession connects. */
export interface SessionOptions {
  /** Aborting stops waiting, returns from the connect() callback and so closes the session. */
  signal: AbortSignal;
  /** The SDK's LogOutput: the CLI's own progress, for debugging. */
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
  const { signal } = options;
  installEngineSessionGuard();
  signal.throwIfAborted();
  let outcome: { value: T } | { error: unknown } | undefined;
  // The callback never throws: the SDK would wrap our errors in its own provisioning error.
  const session = dagger.connect(
    async (client) => {
      if (signal.aborted) return;
      const running = work(client);
      running.catch(() => undefined); // after an abort nobody awaits it; a late failure must not go unhandled
      try {
        outcome = { value: await untilAborted(running, signal) };
      } catch (error) {
        outcome = { error };
      }
    },
    options.logOutput ? { LogOutput: options.logOutput } : {},
  );
  session.catch(() => undefined); // same, when the abort wins the race below
  try {
    await untilAborted(session, signal);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    // The SDK's stray D105 rejection carries the CLI's stderr; let it reach the guard first.
    await new Promise((resolve) => setImmediate(resolve));
    const detail = recentEngineSessionFailure() ?? (error instanceof Error ? error.message : String(error));
    throw new EngineSessionStartError(detail, { cause: error });
  }
  if (outcome === undefined)
    throw signal.aborted
      ? signal.reason
      : new EngineSessionStartError('the session closed before the call ran');
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
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
