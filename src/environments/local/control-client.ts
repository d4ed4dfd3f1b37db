/** The driver's side of the control API: HTTP over the environment's unix socket. */
import { request } from 'node:http';
import type { ControlError, ControlOp, ControlOps } from './protocol.js';
import { LocalEnvironmentError } from './errors.js';

/** Calls one operation; rejects with LocalEnvironmentError when the supervisor reports a failure. */
export function callControl<K extends ControlOp>(
  socketPath: string,
  op: K,
  body: ControlOps[K]['req'],
  timeoutMs: number,
): Promise<ControlOps[K]['res']> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      {
        socketPath,
        // A fresh connection per call: a pooled one may belong to a supervisor that has since died.
        agent: false,
        path: `/${op}`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
            if (res.statusCode === 200) return resolve(parsed as ControlOps[K]['res']);
            const { error } = parsed as ControlError;
            reject(new LocalEnvironmentError(error.message, error.releaseId, error.logTail, error.type));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new LocalEnvironmentError(`supervisor did not answer ${op} within ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * True when the supervisor is not there (never started, killed, or dying: a SIGKILLed process's
 * socket can accept and reset for a moment after its main thread is gone). Every operation is
 * idempotent, so starting a supervisor and sending the request again is safe.
 */
export function isSupervisorGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE';
}
