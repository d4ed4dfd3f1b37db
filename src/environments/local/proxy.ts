/**
 * The environment's load balancer: a reverse proxy on its fixed loopback port. The routing is read
 * once per request, so switching is atomic — requests in flight finish where they started — and a
 * canary's weight change takes effect at the next request. Each answer is counted for the release
 * that gave it (TrafficRecorder.counters).
 */
import { Agent, createServer, type Server } from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { customerKeyOf, probeKeyOf, route, type Routing } from './routing.js';
import { PROXY_ERROR } from './traffic.js';
import type { TrafficRecorder } from './traffic.js';

/** Where traffic goes now, or null for "no release active". */
export interface ProxyTarget {
  releaseId: string;
  port: number;
  /** `host:port` to forward to instead of 127.0.0.1:`port` (a container's address on its network). */
  address?: string;
}

/** Starts the proxy on 127.0.0.1:`port`; `routing()` is asked for every request. */
export async function startProxy(options: {
  environment: string;
  port: number;
  routing: () => Routing;
  traffic: TrafficRecorder;
}): Promise<Server> {
  // Keep-alive to releases, idle sockets dropped before a Node server's 5 s keep-alive timeout would.
  const agent = new Agent({ keepAlive: true, maxSockets: 512, timeout: 4000 });
  const proxy = createProxyServer({ agent, xfwd: true, proxyTimeout: 120_000 });
  const server = createServer((req, res) => {
    const started = performance.now();
    const routing = options.routing();
    const target = route(routing, customerKeyOf(req.headers, req.socket.remoteAddress, routing.sticky));
    const synthetic = probeKeyOf(req.headers, req.socket.remoteAddress) !== undefined;
    const checkout =
      routing.checkoutPath !== undefined &&
      req.method === 'POST' &&
      (req.url ?? '').split('?')[0] === routing.checkoutPath;
    if (!target) {
      options.traffic.record(503, performance.now() - started);
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(
        JSON.stringify({
          error: 'no_active_release',
          environment: options.environment,
          message: `environment ${options.environment} has no active release`,
        }),
      );
      return;
    }
    let failed = false;
    res.on('finish', () => {
      if (failed) return;
      options.traffic.record(res.statusCode, performance.now() - started, target.releaseId, synthetic);
      if (checkout) options.traffic.recordCheckout(target.releaseId, res.statusCode, synthetic);
    });
    proxy.web(req, res, { target: `http://${target.address ?? `127.0.0.1:${target.port}`}` }, (err) => {
      failed = true;
      options.traffic.recordProxyError(performance.now() - started, target.releaseId, synthetic);
      if (checkout) options.traffic.recordCheckout(target.releaseId, PROXY_ERROR, synthetic);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'bad_gateway', release: target.releaseId, message: err.message }));
    });
  });
  // Longer than clients' usual idle time, so the proxy is rarely the side that closes a reused socket.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
