/**
 * Talking to a Docker engine (dockerode): its address, errors that name the fix, and the
 * multiplexed log stream of a container without a TTY.
 */
import Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import { FailureType } from '../../failures.js';
import { LocalEnvironmentError } from '../local/errors.js';

/** The engine's socket when the config names none (and DOCKER_HOST is not set). */
export const DEFAULT_ENGINE = 'unix:///var/run/docker.sock';

/** A client for `engine` (`unix:///path` or `tcp://host:port`, plain HTTP). */
export function connectEngine(engine: string): Docker {
  const url = new URL(engine);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });
  if (url.protocol === 'tcp:' || url.protocol === 'http:')
    return new Docker({ protocol: 'http', host: url.hostname, port: Number(url.port || 2375) });
  throw new LocalEnvironmentError(
    `docker.engine ${JSON.stringify(engine)} is neither unix:///path nor tcp://host:port`,
    undefined,
    undefined,
    FailureType.InvalidConfig,
  );
}

/** The HTTP status of an engine answer (404 no such container or image, 304 already so, 409 conflict). */
export function engineStatus(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** What the engine said, without dockerode's "(HTTP code 404) no such container -" prefix. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return (e.json?.message ?? e.message ?? String(err)).trim();
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);
/** No socket there, or not ours to open: the engine only when it is the connect that failed (not a file of the release). */
const UNREACHABLE_AT_CONNECT = new Set(['ENOENT', 'EACCES']);

/** An error of the connection to the engine, as opposed to one of the engine's answers or of a local file. */
export function engineUnreachable(err: unknown): string | undefined {
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (code === undefined) return undefined;
  if (UNREACHABLE.has(code) || (UNREACHABLE_AT_CONNECT.has(code) && syscall === 'connect')) return code;
  return undefined;
}

/** How often, and how long apart, an unreachable engine is asked again before the call fails. */
export const ENGINE_TRIES = 3;
const ENGINE_RETRY_MS = 1000;

/**
 * Runs `fn` against the engine: an engine that does not answer is asked again (it may be
 * restarting), then the call fails as EngineUnavailable, naming the address and the fix.
 */
export async function withEngine<T>(engine: string, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = engineUnreachable(err);
      if (code === undefined) throw err;
      if (attempt >= ENGINE_TRIES)
        throw new LocalEnvironmentError(
          `the Docker engine at ${engine} does not answer (${code}) while ${what}, after ${ENGINE_TRIES} tries: ` +
            `start dockerd, or set docker.engine in the environment's config to the engine's address`,
          undefined,
          undefined,
          FailureType.EngineUnavailable,
        );
      await sleep(ENGINE_RETRY_MS);
    }
  }
}

/** A non-TTY container's log stream is frames of [stream, 0, 0, 0, size (u32 BE)] + payload: the payloads, joined. */
export function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
