/** Process settings read once from the environment (the pipeline itself lives in tollgate.config.ts). */
import { resolve } from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { TASK_QUEUE } from './constants.js';
import type { RunnerKind } from './types.js';

/** Settings shared by the worker and the CLI. */
export interface Settings {
  /** Tollgate's state directory: run logs, artifacts, environments, the dev server's database. */
  home: string;
  /** Overrides the config's runner (TOLLGATE_RUNNER=host|dagger|auto). */
  runnerOverride?: RunnerKind;
  /** Temporal connection settings, the way the Temporal CLI reads them (TEMPORAL_ADDRESS, TLS, API key). */
  temporal: ReturnType<typeof loadClientConnectConfig>;
  /** Base URL of the Temporal UI, for links. */
  uiUrl: string;
  /** The task queue (TOLLGATE_TASK_QUEUE; one constant by default). */
  taskQueue: string;
}

/** Reads the settings; called once at start by worker.ts and client.ts. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const runner = env.TOLLGATE_RUNNER;
  if (runner !== undefined && !['auto', 'host', 'dagger'].includes(runner)) {
    throw new Error(`TOLLGATE_RUNNER=${runner} is not a runner: use auto, host or dagger`);
  }
  const temporal = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  temporal.connectionOptions.address ??= 'localhost:7233';
  return {
    home: resolve(env.TOLLGATE_HOME ?? '.tollgate'),
    ...(runner ? { runnerOverride: runner as RunnerKind } : {}),
    temporal,
    uiUrl: (env.TOLLGATE_UI_URL ?? 'http://localhost:8233').replace(/\/$/, ''),
    taskQueue: env.TOLLGATE_TASK_QUEUE ?? TASK_QUEUE,
  };
}
