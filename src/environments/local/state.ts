/** The environment's durable state: state.json, written atomically (temp file + rename). */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { DeployedRelease } from '../environment.js';
import type { RuntimeOptions } from './runtime.js';

/** One release the environment knows about (unpacked, and running unless the environment was stopped). */
export interface ReleaseRecord {
  releaseId: string;
  app: string;
  ref: string;
  digest: string;
  dir: string;
  logPath: string;
  port: number;
  /** Null once stopped. */
  pid: number | null;
  startedAt: string;
  deployedAt: string;
  healthPath: string;
  readyPath: string;
  /** Docker: the release's container (its name is `tollgate-<app>-<env>-<release id>`). */
  container?: string;
  /** Docker: the image it runs, pinned by id (a local build) or by digest (a registry's). */
  image?: string;
  /**
   * Docker: `ip:port` of the container on its network, where the proxy and readiness reach it. The
   * published loopback port goes through the engine's userland proxy, which is down while the engine
   * restarts; the container's own address keeps serving (live-restore keeps the container running).
   */
  address?: string;
  /** Docker: the engine's restart count when the supervisor last looked. */
  restartCount?: number;
  /** Set when traffic was rolled back away from this release; it keeps running until retired. */
  rolledBackAt?: string;
}

/** One line of the environment's history. */
export interface HistoryEntry {
  at: string;
  event:
    | 'deployed'
    | 'activated'
    | 'deactivated'
    | 'parked'
    | 'rolled-back'
    | 'retired'
    | 'restarted'
    | 'adopted'
    | 'stopped'
    | 'canary';
  releaseId: string;
  detail?: string;
}

/** Everything the supervisor needs to come back after a restart. */
export interface EnvState {
  version: 1;
  name: string;
  port: number;
  current: string | null;
  previous: string | null;
  /** The last rollback, so a retried rollback answers the same instead of flipping back. */
  lastRollback: { from: string; to: string; at: string; requestId?: string } | null;
  /** A release taking a share of the customers beside `current` (absent in states from before canaries). */
  canary?: CanaryState | null;
  /** What runs the releases (absent in states from before drivers: processes). */
  runtime?: RuntimeOptions;
  releases: Record<string, ReleaseRecord>;
  history: HistoryEntry[];
}

/** A canary in the environment: which release, its share of customers, and what makes them sticky. */
export interface CanaryState {
  releaseId: string;
  /** Percent of customers (0–100). */
  weight: number;
  since: string;
  sticky?: { header?: string; cookie?: string };
  /** Where customers check out: the proxy counts each release's checkouts there (POST). */
  checkoutPath?: string;
}

const HISTORY_LIMIT = 500;

/** A fresh state for an environment that never ran. */
export function emptyState(name: string, port: number): EnvState {
  return {
    version: 1,
    name,
    port,
    current: null,
    previous: null,
    lastRollback: null,
    releases: {},
    history: [],
  };
}

/** Reads state.json, or null when there is none yet. */
export async function readState(file: string): Promise<EnvState | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as EnvState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes state.json atomically: readers see the old file or the new one, never half of one. */
export async function writeState(file: string, state: EnvState): Promise<void> {
  if (state.history.length > HISTORY_LIMIT) state.history.splice(0, state.history.length - HISTORY_LIMIT);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}

/** The driver-facing view of a release record. */
export function toDeployed(record: ReleaseRecord): DeployedRelease {
  return {
    releaseId: record.releaseId,
    ref: record.ref,
    digest: record.digest,
    url: `http://127.0.0.1:${record.port}`,
    pid: record.pid ?? 0,
    startedAt: record.startedAt,
  };
}
