/** The real sample app, released from this repository's HEAD through real local environments in tests. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { environmentStatus, envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import { storeDependency } from '../../src/source/dependencies.js';
import type {
  PaymentProbePlan,
  DependencyPlan,
  EnvironmentLink,
  ReleaseInput,
  ReleasePhase,
  ReleaseStatus,
  RevenuePlan,
  SourceRef,
  StagePlan,
} from '../../src/types.js';
import { queryStatus } from '../../src/cli/runs.js';
import { reason } from '../../src/revenue/http.js';
import { fixtureRepo } from './stages.js';
import { createTestWorker, ROOT, TEST_CACHE_DIR, tempDir, uniqueIds } from './temporal.js';

/** The bundled sample app's source directory. */
export const APP_DIR = join(ROOT, 'examples/saas-app');

/** The secrets a worker needs to deploy the sample app (test values only). */
export const APP_SECRETS = {
  STRIPE_SECRET_KEY: 'sk_test_tollgatedelivery',
  STRIPE_WEBHOOK_SECRET: 'whsec_tollgate_delivery_tests',
};

/** The sample app's dependencies, as tollgate.config.ts declares them. */
export const DEPENDENCIES: DependencyPlan[] = [{ path: 'node_modules', key: ['package-lock.json'] }];

/** The sample app's revenue block, as tollgate.config.ts declares it. */
export const REVENUE: RevenuePlan = {
  webhookPath: '/webhooks/stripe',
  revenuePath: '/metrics/revenue',
  webhookSecret: 'STRIPE_WEBHOOK_SECRET',
  stripeKeySecret: 'STRIPE_SECRET_KEY',
};

/** Payment probes of the sample app (2 test-mode checkouts a second), with its revenue block's secrets by name. */
export const PAYMENT_PROBES: PaymentProbePlan = {
  ratePerSecond: 2,
  amount: 100,
  currency: 'usd',
  checkoutPath: '/api/checkout',
  webhookPath: REVENUE.webhookPath,
  webhookSecret: REVENUE.webhookSecret,
  stripeKeySecret: REVENUE.stripeKeySecret,
};

/**
 * Installs the sample app's dependencies once (better-sqlite3 compiles for minutes here) and puts
 * them in the tests' dependency store, so every run's fresh checkout gets them restored, as a
 * worker that released the app before would.
 */
export async function buildSampleApp(): Promise<void> {
  if (!existsSync(join(APP_DIR, 'node_modules/.package-lock.json'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: APP_DIR,
      stdio: 'inherit',
    });
  }
  await storeDependency(TEST_CACHE_DIR, 'saas-app', APP_DIR, DEPENDENCIES[0]!);
}

/**
 * A commit of the sample app in a repository of its own at `dir` (made from this repository's
 * HEAD on first use): each call commits a RELEASE file saying `label`, so every release of a test
 * is its own commit, as in life.
 */
export function sampleCommit(dir: string, label = 'first'): SourceRef {
  if (!existsSync(join(dir, '.git'))) {
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['-C', ROOT, 'archive', 'HEAD:examples/saas-app'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  }
  return fixtureRepo(dir, { RELEASE: `${label}\n` });
}

/** A build stage that builds and packs the sample app (its checkout has no dist/ yet), as tollgate.config.ts does. */
export function packStage(): StagePlan {
  return {
    name: 'build-production-image',
    needs: [],
    image: 'node:20-slim',
    steps: [{ run: ['npm', 'run', 'build', '--silent'], env: {} }],
    env: {},
    secrets: [],
    cache: false,
    timeoutMs: 300_000,
    retry: { initialIntervalMs: 500, backoffCoefficient: 1, maximumIntervalMs: 500, maximumAttempts: 2 },
    retryableExitCodes: [],
    artifact: {
      include: ['dist', 'package.json', 'package-lock.json', 'node_modules'],
      install: ['npm', 'prune', '--omit=dev', '--no-audit', '--no-fund'],
      sbom: ['npm', 'sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev', '--package-lock-only'],
    },
  };
}

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** What to change in the sample chain: the gate before production, its verification window, staging's smoke routes. */
export interface ChainOptions {
  promotion?: Partial<EnvironmentLink['promotion']>;
  verification?: Partial<NonNullable<EnvironmentLink['verification']>>;
  routes?: string[];
}

/** Staging then production on free ports: staging smoke-tested with the signed events, production behind an auto gate (by default) with a quick window. */
export async function sampleChain(options: ChainOptions = {}): Promise<EnvironmentLink[]> {
  const environment = async (name: string) => ({
    app: 'saas-app',
    name,
    driver: 'local' as const,
    port: await freePort(),
    start: ['node', 'dist/server.js'],
    env: { DATABASE_PATH: '${TOLLGATE_DATA_DIR}/saas.db', LOG_LEVEL: 'warn' },
    secrets: Object.keys(APP_SECRETS),
    healthPath: '/healthz',
    readyPath: '/readyz',
  });
  const auto = { mode: 'auto' as const, approvers: [], timeoutMs: 60_000, onTimeout: 'rollback' as const };
  return [
    {
      environment: await environment('staging'),
      promotion: auto,
      smoke: { routes: options.routes ?? ['/api/insights?q=pricing'], revenueEvents: true },
    },
    {
      environment: await environment('production'),
      promotion: { ...auto, approvers: ['alice'], ...options.promotion },
      verification: {
        durationMs: 3000,
        intervalMs: 500,
        maxErrorRate: 0.01,
        maxP95LatencyMs: 800,
        ...options.verification,
      },
    },
  ];
}

/** A release of `source` (a sampleCommit) through `environments`, building with `packStage()`. */
export function sampleInput(
  source: SourceRef,
  environments: EnvironmentLink[],
  extra: Partial<ReleaseInput> = {},
): ReleaseInput {
  return {
    schemaVersion: 2,
    app: 'saas-app',
    source,
    runner: 'host',
    requestedBy: 'test',
    stages: [packStage()],
    environments,
    dependencies: DEPENDENCIES,
    revenue: REVENUE,
    ...extra,
  };
}

/** A steady loop of GETs against `url`: counts answers and failures until stopped; `headersOf(n)` for the n-th request. */
export function requestLoop(
  url: string,
  concurrency = 4,
  headersOf: (request: number) => Record<string, string> = () => ({}),
): { stop: () => Promise<{ ok: number; failed: string[] }>; answered: () => number } {
  let running = true;
  let ok = 0;
  let sent = 0;
  const failed: string[] = [];
  const client = async (): Promise<void> => {
    while (running) {
      try {
        const headers = headersOf(sent++);
        const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer();
        if (response.status >= 500) failed.push(`HTTP ${response.status}`);
        else ok++;
      } catch (error) {
        failed.push(reason(error));
      }
    }
  };
  const clients = Array.from({ length: concurrency }, client);
  return {
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return { ok, failed };
    },
    /** Requests answered so far (not 5xx). */
    answered: () => ok,
  };
}

/** Polls until the run shows `phase`; fails if the run ends first (so a lost run cannot hang the test). */
export async function waitForPhase(handle: WorkflowHandle, phase: ReleasePhase): Promise<ReleaseStatus> {
  for (;;) {
    const status = await queryStatus(handle);
    if (status.phase === phase) return status;
    if (['succeeded', 'failed', 'rolled-back', 'cancelled'].includes(status.phase)) {
      throw new Error(`run ended in ${status.phase} while waiting for ${phase}: ${status.failure ?? ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stops the sample app's environments under each home (test cleanup; missing ones are fine). */
export async function stopSampleEnvironments(homes: readonly string[]): Promise<void> {
  for (const home of homes) {
    for (const name of ['staging', 'production']) {
      await stopEnvironment(envPaths(home, { app: 'saas-app', name })).catch(() => undefined);
    }
  }
}

/** What an environment of the sample app serves now, by release id. */
export async function servedIn(home: string, name: string): Promise<string | null> {
  return (await environmentStatus(home, { app: 'saas-app', name })).current;
}

/** A worker whose secrets are the sample app's test secrets, with its own home (environments, runs), listed in `homes` for cleanup. */
export async function deliveryWorker(
  env: TestWorkflowEnvironment,
  label: string,
  homes: string[],
): Promise<{ worker: Worker; taskQueue: string; workflowId: string; home: string; repo: string }> {
  const dir = tempDir(label);
  const home = join(dir, 'home');
  homes.push(home);
  const { taskQueue, workflowId } = uniqueIds(label);
  const worker = await createTestWorker(env, taskQueue, home, {
    secretSource: { ...process.env, ...APP_SECRETS },
  });
  return { worker, taskQueue, workflowId, home, repo: join(dir, 'repo') };
}

/** The application failure a run ended with; fails the test if the run succeeded. */
export async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const error = await handle.result().then(
    () => assert.fail('the run should not succeed'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
  return error.cause;
}

/** The history of a canary window's workflow: each run's events (it continues as new) and their bytes. */
export async function windowHistory(
  client: Client,
  windowId: string,
): Promise<{ runs: { runId: string; events: number }[]; events: number; bytes: number }> {
  const runs: { runId: string; events: number }[] = [];
  let bytes = 0;
  for await (const run of client.workflow.list({ query: `WorkflowId = '${windowId}'` })) {
    const history = await client.workflow.getHandle(windowId, run.runId).fetchHistory();
    runs.push({ runId: run.runId, events: history.events?.length ?? 0 });
    bytes += JSON.stringify(history).length;
  }
  return { runs, events: runs.reduce((sum, r) => sum + r.events, 0), bytes };
}
