/** Starts a Tollgate worker: polls the task queue, runs releases, drains on SIGINT/SIGTERM. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { WORKFLOW_BUNDLE_PATH, WORKFLOWS_PATH } from './bundle.js';
import { RunnerSelector } from './runners/select.js';
import { installEngineSessionGuard } from './runners/dagger-guard.js';
import { loadSettings, type Settings } from './settings.js';

/** Options for a worker started from code (tests, the demo) rather than the command line. */
export interface StartWorkerOptions {
  settings?: Settings;
  connection?: NativeConnection;
  taskQueue?: string;
}

/** Creates the worker (not yet running). */
export async function createWorker(options: StartWorkerOptions = {}): Promise<Worker> {
  const settings = options.settings ?? loadSettings();
  const connection =
    options.connection ?? (await NativeConnection.connect(settings.temporal.connectionOptions));
  const runners = new RunnerSelector(settings.runnerOverride);
  installEngineSessionGuard();
  console.log(`[tollgate] ${runners.describe()}`);
  // The prebuilt bundle (npm run build) skips webpack at start; without it, bundle now.
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = bundleIsFresh()
    ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection,
    namespace: settings.temporal.namespace ?? 'default',
    taskQueue: options.taskQueue ?? settings.taskQueue,
    ...workflows,
    activities: createActivities({
      home: settings.home,
      runnerFor: runners.runnerFor,
      secretSource: process.env,
    }),
    // In-flight stages get this long to finish on shutdown; then they are cancelled (processes killed)
    // and the server hands them to another worker.
    shutdownGraceTime: Number(process.env.TOLLGATE_SHUTDOWN_GRACE_MS ?? 20_000),
  });
}

/** The prebuilt bundle exists and no compiled source is newer (a bare `tsc` would leave it stale). */
function bundleIsFresh(): boolean {
  if (!existsSync(WORKFLOW_BUNDLE_PATH)) return false;
  const built = statSync(WORKFLOW_BUNDLE_PATH).mtimeMs;
  const sources = dirname(WORKFLOWS_PATH).replace(/workflows$/, '');
  const newest = readdirSync(sources, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .reduce((max, f) => Math.max(max, statSync(join(sources, f)).mtimeMs), 0);
  if (newest > built)
    console.warn('[tollgate] the prebuilt workflow bundle is older than the sources: bundling now');
  return newest <= built;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const worker = await createWorker();
  console.log(`[tollgate] worker polling task queue ${worker.options.taskQueue}`);
  // Worker.run() shuts down on SIGINT/SIGTERM: stops polling, lets running stages finish within the grace time.
  await worker.run();
  console.log('[tollgate] worker drained and stopped');
}
