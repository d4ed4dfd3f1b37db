/** Loopback helpers: a free port, and a bounded GET that never throws. */
import { get } from 'node:http';
import { createServer } from 'node:net';

/** A port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The outcome of one probe: a status, or the reason there was none. */
export interface Probe {
  status: number | null;
  body: string;
  latencyMs: number;
  error?: string;
}

/** GET `url` without keep-alive, giving up after `timeoutMs`. */
export function probe(url: string, timeoutMs: number): Promise<Probe> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (status: number | null, body: string, error?: string): void =>
      resolve({ status, body, latencyMs: performance.now() - started, ...(error ? { error } : {}) });
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => done(res.statusCode ?? null, body));
      res.on('error', (err) => done(null, body, err.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => done(null, '', err.message));
  });
}

/** True when nothing listens on 127.0.0.1:`port` (so a restarted release can keep its old port). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
