/** Process settings read once from the environment (the pipeline itself lives in tollgate.config.ts). */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { encryptionDataConverter } from './codec/codec.js';
import { loadEncryptionKeys } from './codec/keys.js';
import { TASK_QUEUE } from './constants.js';
import { defaultStageSlots } from './runners/slots.js';
import { DEFAULT_STAGE_CACHE_MAX_BYTES } from './runners/stage-cache.js';
import type { RunnerKind } from './types.js';

/** A bad setting: the message names the variable, its value and the fix (the CLI prints it as one line, exit 2). */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Settings shared by the worker and the CLI. */
export interface Settings {
  /** Tollgate's state directory: run logs, artifacts, environments, mirrors and checkouts, the dev server's database. */
  home: string;
  /** Where installed dependencies are kept across checkouts (TOLLGATE_CACHE_DIR; `<home>/cache` by default). */
  cacheDir: string;
  /** Overrides the config's runner (TOLLGATE_RUNNER=host|dagger|auto). */
  runnerOverride?: RunnerKind;
  /** Temporal connection settings, the way the Temporal CLI reads them (TEMPORAL_ADDRESS, TLS, API key). */
  temporal: ReturnType<typeof loadClientConnectConfig>;
  /** Base URL of the Temporal UI, for links. */
  uiUrl: string;
  /** The task queue (TOLLGATE_TASK_QUEUE; one constant by default). */
  taskQueue: string;
  /** Where build stages run when builds have workers of their own (TOLLGATE_BUILD_TASK_QUEUE); the task queue otherwise. */
  buildTaskQueue?: string;
  /**
   * Which queues `node dist/src/worker.js` polls (TOLLGATE_WORKER_QUEUES): `release` (workflows and
   * all activities), `build` (build stages only) or `all` (both; the default when a build queue is set).
   */
  workerQueues: 'release' | 'build' | 'all';
  /** Activities (stages) one worker runs at a time (TOLLGATE_MAX_CONCURRENT_STAGES; the SDK's default, 100). */
  maxConcurrentStages: number;
  /** Heavy stages one worker runs on the host at a time (TOLLGATE_STAGE_SLOTS; one per core). */
  stageSlots: number;
  /**
   * Workflow tasks one worker processes at once (TOLLGATE_MAX_CONCURRENT_WORKFLOW_TASKS; 10, the
   * load bench's best on 2 cores: the SDK's 40 crowd out the stages' dispatch, docs/deploying.md).
   */
  maxConcurrentWorkflowTasks: number;
  /** Workflows one worker keeps in its sticky cache (TOLLGATE_MAX_CACHED_WORKFLOWS; 1000). */
  maxCachedWorkflows: number;
  /** Size bound of the stage result cache under the home (TOLLGATE_STAGE_CACHE_MAX_BYTES; 2 GiB; 0: off). */
  stageCacheMaxBytes: number;
  /**
   * Payload encryption for client, worker and tests alike, when TOLLGATE_ENCRYPTION_KEY or
   * TOLLGATE_ENCRYPTION_KEY_FILE is set (format in src/codec/keys.ts); absent otherwise.
   */
  dataConverter?: DataConverter;
  /** A codec server the dev UI decodes payloads with (TOLLGATE_CODEC_ENDPOINT); `tollgate dev` starts one when unset. */
  codecEndpoint?: string;
}

/** Reads the settings; called once at start by worker.ts and client.ts. A bad encryption key throws EncryptionKeyError here, before anything starts. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const runner = env.TOLLGATE_RUNNER;
  if (runner !== undefined && !['auto', 'host', 'dagger'].includes(runner)) {
    throw new SettingsError(`TOLLGATE_RUNNER=${runner} is not a runner: use auto, host or dagger`);
  }
  const queues = env.TOLLGATE_WORKER_QUEUES ?? 'all';
  if (!['release', 'build', 'all'].includes(queues)) {
    throw new SettingsError(`TOLLGATE_WORKER_QUEUES=${queues} is not a choice: use release, build or all`);
  }
  if (queues === 'build' && !env.TOLLGATE_BUILD_TASK_QUEUE) {
    throw new SettingsError(
      'TOLLGATE_WORKER_QUEUES=build needs TOLLGATE_BUILD_TASK_QUEUE: set it to the queue build stages are sent to',
    );
  }
  const maxStages = wholeNumber(
    env,
    'TOLLGATE_MAX_CONCURRENT_STAGES',
    100,
    1,
    'how many stages one worker may run at once, e.g. 4',
  );
  const stageSlots = wholeNumber(
    env,
    'TOLLGATE_STAGE_SLOTS',
    defaultStageSlots(),
    1,
    'how many heavy stages one worker runs at once, e.g. 2 on two cores',
  );
  // The SDK needs 2 or more (a sticky and a normal queue poller each hold one).
  const maxConcurrentWorkflowTasks = wholeNumber(
    env,
    'TOLLGATE_MAX_CONCURRENT_WORKFLOW_TASKS',
    DEFAULT_WORKFLOW_TASKS,
    2,
    'how many workflow tasks one worker processes at once, e.g. 10',
  );
  const maxCachedWorkflows = wholeNumber(
    env,
    'TOLLGATE_MAX_CACHED_WORKFLOWS',
    DEFAULT_CACHED_WORKFLOWS,
    0,
    'how many workflows one worker keeps cached, e.g. 1000 (0: none)',
  );
  const stageCacheMaxBytes = wholeNumber(
    env,
    'TOLLGATE_STAGE_CACHE_MAX_BYTES',
    DEFAULT_STAGE_CACHE_MAX_BYTES,
    0,
    "the stage result cache's size bound in bytes, e.g. 2147483648 (0 turns the cache off)",
  );
  const temporal = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  temporal.connectionOptions.address ??= 'localhost:7233';
  const keys = loadEncryptionKeys(env);
  const home = resolve(env.TOLLGATE_HOME ?? '.tollgate');
  return {
    home,
    cacheDir: env.TOLLGATE_CACHE_DIR ? resolve(env.TOLLGATE_CACHE_DIR) : join(home, 'cache'),
    ...(runner ? { runnerOverride: runner as RunnerKind } : {}),
    temporal,
    uiUrl: (
      env.TOLLGATE_UI_URL ??
      recordedUiUrl(home, temporal.connectionOptions.address) ??
      DEFAULT_UI_URL
    ).replace(/\/$/, ''),
    taskQueue: env.TOLLGATE_TASK_QUEUE ?? TASK_QUEUE,
    ...(env.TOLLGATE_BUILD_TASK_QUEUE ? { buildTaskQueue: env.TOLLGATE_BUILD_TASK_QUEUE } : {}),
    workerQueues: queues as Settings['workerQueues'],
    maxConcurrentStages: maxStages,
    stageSlots,
    maxConcurrentWorkflowTasks,
    maxCachedWorkflows,
    stageCacheMaxBytes,
    ...(keys ? { dataConverter: encryptionDataConverter(keys) } : {}),
    ...(env.TOLLGATE_CODEC_ENDPOINT ? { codecEndpoint: env.TOLLGATE_CODEC_ENDPOINT.replace(/\/$/, '') } : {}),
  };
}

/** A whole-number setting ≥ `min`, or `fallback` when unset; a bad value names the variable and the fix. */
function wholeNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  what: string,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new SettingsError(`${name}=${raw} is not a whole number ≥ ${min}: set it to ${what}`);
  }
  return value;
}

/** The worker settings bench/load.ts found best on 2 cores (docs/benchmarks.md, docs/deploying.md). */
export const DEFAULT_WORKFLOW_TASKS = 10;
export const DEFAULT_CACHED_WORKFLOWS = 1000;

/** The Temporal UI of a server nobody described: the dev server's default. */
export const DEFAULT_UI_URL = 'http://localhost:8233';

/** Where `tollgate dev` records the server it started: its address and its UI's (JSON). */
export const devServerRecordPath = (home: string): string => join(home, 'dev-server.json');

/** What `tollgate dev` records. */
export interface DevServerRecord {
  address: string;
  uiUrl: string;
  pid: number;
}

/** The UI address `tollgate dev` recorded for the server at `address` (a loopback one, by port), if any. */
export function recordedUiUrl(home: string, address: string | undefined): string | undefined {
  try {
    const record = JSON.parse(readFileSync(devServerRecordPath(home), 'utf8')) as Partial<DevServerRecord>;
    const loopback = (a: string): string | undefined => {
      const match = /^(?:localhost|127\.0\.0\.1|\[::1\]):(\d+)$/.exec(a);
      return match?.[1];
    };
    const port = loopback(address ?? 'localhost:7233');
    if (typeof record.uiUrl !== 'string' || !record.address || !port || !isAlive(record.pid))
      return undefined;
    return loopback(record.address) === port ? record.uiUrl : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid runs (a record of a server that has stopped is ignored). */
function isAlive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
