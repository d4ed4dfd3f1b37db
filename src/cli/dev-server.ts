/** Starts the Temporal dev server with Tollgate's search attributes, or finds one already running. */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTES } from '../constants.js';
import { devServerRecordPath, type DevServerRecord } from '../settings.js';
import { toolPath } from './tools.js';

/** Where and how to run the dev server. */
export interface DevServerOptions {
  home: string;
  port: number;
  uiPort: number;
  /** Keep the server running in the background after this process exits. */
  detach: boolean;
  /** The codec server the UI decodes encrypted payloads with (`--ui-codec-endpoint`). */
  codecEndpoint?: string;
}

/** `temporal server start-dev` arguments: SQLite file under home, the UI, the custom search attributes, the codec endpoint. */
export function devServerArgs(options: DevServerOptions): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    join(options.home, 'temporal.db'),
    '--log-level',
    'warn',
    ...Object.values(SEARCH_ATTRIBUTES).flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
  ];
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts the server; with detach, waits until it listens and returns its pid. */
export async function startDevServer(options: DevServerOptions): Promise<{ pid: number; logPath: string }> {
  mkdirSync(options.home, { recursive: true });
  const temporal = toolPath('temporal');
  const logPath = join(options.home, 'temporal.log');
  const log = openSync(logPath, 'a');
  const child = spawn(temporal, devServerArgs(options), {
    detached: options.detach,
    stdio: options.detach ? ['ignore', log, log] : 'inherit',
  });
  if (child.pid === undefined) throw new Error(`could not start ${temporal}`);
  writeFileSync(join(options.home, 'temporal.pid'), String(child.pid));
  // Every link the CLI prints for this server points at the UI it really has (settings.ts reads this).
  const record: DevServerRecord = {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://localhost:${options.uiPort}`,
    pid: child.pid,
  };
  writeFileSync(devServerRecordPath(options.home), `${JSON.stringify(record)}\n`);
  if (!options.detach) {
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    rmSync(devServerRecordPath(options.home), { force: true });
    return { pid: child.pid, logPath };
  }
  child.unref();
  const deadline = Date.now() + 60_000;
  while (!(await isListening(options.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the Temporal dev server did not start: see ${logPath}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { pid: child.pid, logPath };
}
