/** A real Temporal dev server for a test file, and workers that run Tollgate's real workflows and activities. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType, type DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import { workflowBundlePath } from '../../src/bundle.js';
import { ensureNamespace } from '../../src/cli/namespace.js';
import { SEARCH_ATTRIBUTES } from '../../src/constants.js';
import { RunnerSelector } from '../../src/runners/select.js';
import { loadSettings } from '../../src/settings.js';

/** The repository root (dist/test/support → three levels up). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The dependency store every test worker shares (TOLLGATE_CACHE_DIR): the sample app's node_modules
 * is compiled once per suite, not once per test home.
 */
export const TEST_CACHE_DIR = process.env.TOLLGATE_CACHE_DIR ?? join(ROOT, '.tollgate', 'test-cache');

/** Path of a tool (`temporal`, `temporal-test-server`, `stripe-mock`), found or installed by scripts/ensure-tools. */
export function toolBinary(tool: 'temporal' | 'temporal-test-server' | 'stripe-mock'): string {
  return execFileSync('bash', [join(ROOT, 'scripts/ensure-tools'), '--print', tool], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .toString()
    .trim();
}

/** Path of the Temporal CLI, found or installed by scripts/ensure-tools. */
export function temporalBinary(): string {
  return toolBinary('temporal');
}

/**
 * The data converter of the process's settings: encryption when TOLLGATE_ENCRYPTION_KEY (or its
 * file) is set, so the whole suite can run encrypted, as client and worker do; none otherwise.
 */
export function testDataConverter(): DataConverter | undefined {
  return loadSettings().dataConverter;
}

/**
 * The cluster lane (scripts/test --cluster): the frontend address of the self-hosted cluster
 * (scripts/cluster) the integration tests run on instead of their own dev servers.
 */
export const TEST_CLUSTER = process.env.TOLLGATE_TEST_CLUSTER || undefined;

/**
 * A Temporal server for a test file, with Tollgate's search attributes registered: its own dev server
 * (`temporal server start-dev`; `ui` serves the web UI on `uiPort`), or, in the cluster lane, a
 * namespace of its own on the cluster, so the files stay as independent as with their own servers.
 * A test that needs the web UI always gets a dev server: the cluster serves none.
 */
export async function startTestServer(
  options: { ui?: boolean; uiPort?: number; dbFilename?: string; cluster?: string | null } = {},
): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const dataConverter = testDataConverter();
  const { cluster = TEST_CLUSTER, ...serverOptions } = options;
  if (cluster && !options.ui) {
    const namespace = `test-${randomUUID().slice(0, 8)}`;
    const connection = await Connection.connect({ address: cluster });
    try {
      await ensureNamespace(connection, namespace, { retentionDays: 1 });
    } finally {
      await connection.close();
    }
    return TestWorkflowEnvironment.createFromExistingServer({
      address: cluster,
      namespace,
      ...(dataConverter ? { client: { dataConverter } } : {}),
    });
  }
  return TestWorkflowEnvironment.createLocal({
    // With TOLLGATE_ENCRYPTION_KEY set, the tests' client encrypts like the CLI's.
    ...(dataConverter ? { client: { dataConverter } } : {}),
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      ip: '127.0.0.1',
      ...serverOptions,
      searchAttributes: Object.values(SEARCH_ATTRIBUTES).map((name) =>
        defineSearchAttributeKey(name, SearchAttributeType.KEYWORD),
      ),
    },
  });
}

let runtimeInstalled = false;
/**
 * SDK logs at WARN, so test output shows test results rather than worker state changes. A test file
 * that needs its own Runtime (metrics, a logger) calls this with its installer before startTestServer.
 */
export function quietRuntime(
  install: () => unknown = () => Runtime.install({ logger: new DefaultLogger('WARN') }),
): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  install();
}

/** Saves a finished run's history as a replay fixture when RECORD_HISTORIES=1 (test/fixtures/histories). */
export function recordHistory(env: TestWorkflowEnvironment, workflowId: string, name: string): void {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const json = execFileSync(temporalBinary(), [
    'workflow',
    'show',
    '-w',
    workflowId,
    '--address',
    env.address,
    '--namespace',
    env.namespace ?? 'default',
    '--output',
    'json',
  ]);
  writeFileSync(join(ROOT, 'test/fixtures/histories', `${name}.json`), json);
}

/** What a child process (CLI, worker) needs to reach the test's server and namespace. */
export function temporalEnv(env: TestWorkflowEnvironment): {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
} {
  return { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default' };
}

/** Starts `node dist/src/worker.js` as its own process on the test's server, the way an operator would; the caller kills it. */
export function spawnWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  home: string,
  extraEnv: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
    env: {
      ...process.env,
      ...temporalEnv(env),
      ...extraEnv,
      TOLLGATE_TASK_QUEUE: taskQueue,
      TOLLGATE_HOME: home,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Polls `condition` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A unique task queue and workflow id per test, so tests never see each other's runs. */
export function uniqueIds(label: string): { taskQueue: string; workflowId: string } {
  const id = randomUUID().slice(0, 8);
  return { taskQueue: `test-${label}-${id}`, workflowId: `test-${label}-${id}` };
}

/** A fresh temp directory. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `tollgate-${label}-`));
}

/**
 * A worker on `taskQueue` with the real activities (host runner) and the prebuilt workflow bundle;
 * `dataConverter` as the worker's (encryption); `workflowBundle` to run other workflow code (upgrades).
 */
export function createTestWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  home: string,
  deps: Partial<ActivityDeps> = {},
  options: { dataConverter?: DataConverter; workflowBundle?: { code: string } } = {},
): Promise<Worker> {
  const dataConverter = options.dataConverter ?? testDataConverter();
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: options.workflowBundle ?? { codePath: workflowBundlePath(dataConverter) },
    ...(dataConverter ? { dataConverter } : {}),
    activities: createActivities({
      home,
      cacheDir: TEST_CACHE_DIR,
      runnerFor: new RunnerSelector('host').runnerFor,
      secretSource: process.env,
      ...deps,
    }),
  });
}
