/**
 * Starts a Tollgate worker: polls the release task queue (workflows and every activity) and, where
 * builds have workers of their own, the build queue (build stages only); drains on SIGINT/SIGTERM.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { StageSlots } from './runners/slots.js';
import { StageCache } from './runners/stage-cache.js';
import { workflowBundlePath, WORKFLOWS_PATH } from './bundle.js';
import { encryptionCodecOf } from './codec/codec.js';
import { loggerFromEnv, type TollgateLogger } from './observability/logging.js';
import { installRuntime } from './observability/runtime.js';
import { RunnerSelector } from './runners/select.js';
import { loadSettings, type Settings } from './settings.js';

/** Options for a worker started from code (tests, the demo) rather than the command line. */
export interface StartWorkerOptions {
  settings?: Settings;
  connection?: NativeConnection;
  taskQueue?: string;
  /** The worker's and the SDK's log lines; JSON on stdout (readable on a terminal), secrets redacted, by default. */
  logger?: TollgateLogger;
  /** `release`: workflows and all activities on the task queue; `build`: only activities, on the build queue. */
  role?: 'release' | 'build';
}

/** Creates the worker (not yet running). */
export async function createWorker(options: StartWorkerOptions = {}): Promise<Worker> {
  const settings = options.settings ?? loadSettings();
  const logger = options.logger ?? loggerFromEnv();
  const role = options.role ?? 'release';
  // The Runtime (logger, /metrics) is fixed by the first connection; a caller with its own connection has one already.
  if (!options.connection) {
    const { metricsAddress, installed } = installRuntime({ logger });
    if (installed) {
      logger.info(metricsAddress ? `metrics on http://${metricsAddress}/metrics` : 'metrics off', {
        metricsAddress: metricsAddress ?? 'off',
      });
    }
  }
  const connection =
    options.connection ?? (await NativeConnection.connect(settings.temporal.connectionOptions));
  const runners = await RunnerSelector.detect(settings.runnerOverride);
  const codec = encryptionCodecOf(settings.dataConverter);
  if (role === 'release') {
    logger.info(runners.describe());
    logger.info(
      codec
        ? `payload encryption on (keys ${codec.keyIds.join(', ')}; encrypting with ${codec.encryptingKeyId})`
        : 'payload encryption off',
    );
  }
  const taskQueue =
    options.taskQueue ?? (role === 'build' ? settings.buildTaskQueue : undefined) ?? settings.taskQueue;
  return Worker.create({
    connection,
    namespace: settings.temporal.namespace ?? 'default',
    taskQueue,
    // A build worker runs activities only: the release workflows stay on the release queue.
    ...(role === 'release' ? workflowCode(settings, logger) : {}),
    ...(settings.dataConverter ? { dataConverter: settings.dataConverter } : {}),
    activities: createActivities({
      home: settings.home,
      cacheDir: settings.cacheDir,
      runnerFor: runners.runnerFor,
      secretSource: process.env,
      onSecrets: (values) => logger.addSecrets(values),
      stageSlots: (processSlots ??= new StageSlots(settings.stageSlots)),
      ...(settings.stageCacheMaxBytes > 0
        ? { stageCache: StageCache.under(settings.home, settings.stageCacheMaxBytes) }
        : {}),
    }),
    // In-flight stages get this long to finish on shutdown; then they are cancelled (processes killed)
    // and the server hands them to another worker.
    shutdownGraceTime: Number(process.env.TOLLGATE_SHUTDOWN_GRACE_MS ?? 20_000),
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentStages,
    maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: settings.maxCachedWorkflows,
  });
}

/** One set of CPU slots per process: its release and build workers share the machine's cores. */
let processSlots: StageSlots | undefined;

/** The prebuilt bundle (npm run build) skips webpack at start; without a fresh one, bundle now. */
function workflowCode(
  settings: Settings,
  logger: TollgateLogger,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = workflowBundlePath(settings.dataConverter);
  return bundleIsFresh(bundle, logger)
    ? { workflowBundle: { codePath: bundle } }
    : { workflowsPath: WORKFLOWS_PATH };
}

/** The prebuilt bundle exists and no compiled source is newer (a bare `tsc` would leave it stale). */
function bundleIsFresh(bundle: string, logger: TollgateLogger): boolean {
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const sources = dirname(WORKFLOWS_PATH).replace(/workflows$/, '');
  const newest = readdirSync(sources, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .reduce((max, f) => Math.max(max, statSync(join(sources, f)).mtimeMs), 0);
  if (newest > built) logger.warn('the prebuilt workflow bundle is older than the sources: bundling now');
  return newest <= built;
}

/** The workers this process runs, from TOLLGATE_WORKER_QUEUES (release, build or all). */
export function workerRoles(settings: Settings): ('release' | 'build')[] {
  if (settings.workerQueues === 'release' || !settings.buildTaskQueue) return ['release'];
  return settings.workerQueues === 'build' ? ['build'] : ['release', 'build'];
}

/** Runs the workers TOLLGATE_WORKER_QUEUES asks for until SIGINT/SIGTERM (`tollgate worker`, `node dist/src/worker.js`). */
export async function runWorkers(): Promise<number> {
  const logger = loggerFromEnv();
  try {
    const settings = loadSettings();
    const workers: Worker[] = [];
    for (const role of workerRoles(settings)) {
      workers.push(
        await createWorker({
          settings,
          logger,
          role,
          ...(workers[0] ? { connection: workers[0].connection as NativeConnection } : {}),
        }),
      );
      const queue = workers.at(-1)!.options.taskQueue;
      logger.info(`worker polling task queue ${queue}${role === 'build' ? ' (build stages)' : ''}`, {
        taskQueue: queue,
        role,
      });
    }
    // Worker.run() shuts down on SIGINT/SIGTERM: stops polling, lets running stages finish within the grace time.
    await Promise.all(workers.map((worker) => worker.run()));
    // The last connection closed shuts the Runtime down; its log forwarding would otherwise keep the process alive.
    await workers[0]?.connection?.close();
    logger.info('worker drained and stopped');
    return 0;
  } catch (error) {
    // One JSON line (secrets redacted) rather than Node's raw stack on stderr.
    logger.error(`worker stopped: ${error instanceof Error ? error.message : String(error)}`, { error });
    return 1;
  } finally {
    logger.flush();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await runWorkers();
