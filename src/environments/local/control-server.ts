/** The supervisor's side of the control API: a tiny HTTP server on a unix socket (owner-only). */
import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { ControlError, ControlOp, ControlOps } from './protocol.js';
import { LocalEnvironmentError } from './errors.js';

/** One handler per operation. */
export type ControlHandlers = {
  [K in ControlOp]: (req: ControlOps[K]['req']) => Promise<ControlOps[K]['res']>;
};

/** Listens on `socketPath`, replacing a stale socket file left by a killed supervisor. */
export async function startControlServer(socketPath: string, handlers: ControlHandlers): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const op = (req.url ?? '/').slice(1) as ControlOp;
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const handler = Object.hasOwn(handlers, op) ? handlers[op] : undefined;
      if (!handler)
        return reply(404, { error: { message: `unknown operation ${op}` } } satisfies ControlError);
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return reply(400, { error: { message: 'request body is not JSON' } } satisfies ControlError);
      }
      // The union of handlers is not callable with a union of bodies; the op name picks the pair.
      (handler as (b: unknown) => Promise<unknown>)(body).then(
        (result) => reply(200, result),
        (err: unknown) => {
          const e = err as Error;
          const extra =
            e instanceof LocalEnvironmentError
              ? { releaseId: e.releaseId, logTail: e.logTail, type: e.type }
              : {};
          reply(500, { error: { message: e.message, ...extra } } satisfies ControlError);
        },
      );
    });
  });
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  return server;
}
