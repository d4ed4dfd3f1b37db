/**
 * One environment's supervisor: a detached process (not a child of the worker) that hosts the
 * proxy on the environment's port, the control socket, and the release processes.
 * Started by the driver as `node supervisor.js <environment dir> <name> <port> [<runtime JSON>]` (the
 * runtime: processes by default, or a Docker engine's containers); exits on the `stop` operation.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlServer } from './control-server.js';
import { DockerRuntime } from '../docker/runtime.js';
import { ReleaseManager } from './manager.js';
import { ProcessRuntime } from './process-runtime.js';
import type { ReleaseRuntime, RuntimeOptions } from './runtime.js';
import { envPathsAt } from './paths.js';
import { startProxy } from './proxy.js';
import { emptyState, readState } from './state.js';
import { TrafficRecorder } from './traffic.js';

/** Readiness wait when the supervisor restarts releases on its own (no driver call to take it from). */
const RECOVERY_READY_TIMEOUT_MS = 60_000;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** A killed predecessor may hold the port for a moment while its threads exit; give it a few seconds. */
async function retryWhileInUse<T>(bind: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      return await bind();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

async function main(): Promise<void> {
  const [dir, name, portArg, runtimeArg] = process.argv.slice(2);
  const port = Number(portArg);
  if (!dir || !name || !Number.isInteger(port))
    throw new Error('usage: supervisor.js <environment dir> <name> <port> [<runtime JSON>]');
  const runtime = runtimeArg ? (JSON.parse(runtimeArg) as RuntimeOptions) : { kind: 'process' as const };
  const paths = envPathsAt(dir);
  await mkdir(paths.releases, { recursive: true, mode: 0o700 });
  const state = (await readState(paths.state)) ?? emptyState(name, port);
  state.port = port;
  state.runtime = runtime;
  // A docker environment always lives at <home>/envs/<app>/<name> (never a 0.1 layout): the app is its folder's.
  const app = paths.dir.split('/').at(-2) ?? name;
  const runtimeFor = (stopping: () => boolean): ReleaseRuntime =>
    runtime.kind === 'docker'
      ? new DockerRuntime(runtime, { app, name, paths }, log)
      : new ProcessRuntime(paths, log, stopping);
  const traffic = new TrafficRecorder();
  const manager = new ReleaseManager(paths, state, log, runtimeFor);
  // The proxy port is the lock: a second supervisor for the same environment fails here and exits.
  const proxy = await retryWhileInUse(() =>
    startProxy({ environment: name, port, routing: () => manager.routing(), traffic }),
  );
  const recovered = manager.recover(RECOVERY_READY_TIMEOUT_MS);
  const ready = <T>(fn: () => Promise<T>): Promise<T> => recovered.then(fn, fn);
  let control: Server | undefined = undefined;
  const shutdown = async (): Promise<void> => {
    proxy.closeAllConnections();
    proxy.close();
    control?.close();
    await rm(paths.pidFile, { force: true });
    await rm(paths.socket, { force: true });
    log('supervisor stopped');
    process.exit(0);
  };
  control = await startControlServer(paths.socket, {
    ping: () => Promise.resolve({ pid: process.pid, name, port, runtime: runtime.kind }),
    logs: (req) => ready(() => manager.logs(req.releaseId, req.bytes ?? 4096)),
    deploy: (req) => ready(() => manager.deploy(req.spec, req.readyTimeoutMs)),
    activate: (req) => ready(() => manager.activate(req.releaseId, req.readyTimeoutMs)),
    rollback: (req) => ready(() => manager.rollback(req.readyTimeoutMs, req.requestId)),
    deactivate: () => ready(() => manager.deactivate()),
    settle: () => ready(() => manager.settle()),
    status: () => ready(() => Promise.resolve({ pid: process.pid, ...manager.snapshot() })),
    traffic: (req) => Promise.resolve(traffic.stats(req.since ? Date.parse(req.since) : 0)),
    counters: () => Promise.resolve(traffic.counters()),
    canary: (req) =>
      ready(() =>
        manager.setCanary(req.releaseId, req.weight, req.readyTimeoutMs, req.sticky, req.checkoutPath),
      ),
    clearCanary: () => ready(() => manager.clearCanary()),
    retire: (req) => ready(() => manager.retire(req.releaseId)),
    stop: () =>
      ready(async () => {
        const result = await manager.stopAll();
        setImmediate(() => void shutdown()); // answer first, then go
        return result;
      }),
  });
  await writeFile(
    paths.pidFile,
    JSON.stringify({ pid: process.pid, port, startedAt: new Date().toISOString() }),
  );
  log(`supervisor ${process.pid} for ${name} serving 127.0.0.1:${port}`);
  // SIGTERM leaves releases running, like a crash: the next supervisor adopts them.
  process.on('SIGTERM', () => void shutdown());
  await recovered;
}

main().catch((err: unknown) => {
  log(`supervisor failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
