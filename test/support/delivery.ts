/** The real sample app, built once, released through real local environments in tests. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { DeliveryPlan, ReleasePhase, ReleaseStatus, StagePlan } from '../../src/types.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { reason } from '../../src/revenue/http.js';
import { ROOT } from './temporal.js';

/** The bundled sample app's source directory. */
export const APP_DIR = join(ROOT, 'examples/saas-app');

/** The secrets a worker needs to deploy the sample app (test values only). */
export const APP_SECRETS = {
  STRIPE_SECRET_KEY: 'sk_test_tollgatedelivery',
  STRIPE_WEBHOOK_SECRET: 'whsec_tollgate_delivery_tests',
};

/** Installs (first time) and builds the sample app, so build stages only pack it. */
export function buildSampleApp(): void {
  if (!existsSync(join(APP_DIR, 'node_modules/.package-lock.json'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: APP_DIR,
      stdio: 'inherit',
    });
  }
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: APP_DIR, stdio: 'inherit' });
}

/** A build stage that packs the already-built sample app, as tollgate.config.ts does. */
export function packStage(): StagePlan {
  return {
    name: 'build-production-image',
    image: 'node:20-slim',
    steps: [{ run: ['true'], env: {} }],
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

/** Staging and production on free ports, a quick verification window, and the given promotion policy. */
export async function deliveryPlan(overrides: Partial<DeliveryPlan> = {}): Promise<DeliveryPlan> {
  const environment = async (name: string) => ({
    name,
    driver: 'local' as const,
    port: await freePort(),
    start: ['node', 'dist/server.js'],
    env: { DATABASE_PATH: '${TOLLGATE_DATA_DIR}/saas.db', LOG_LEVEL: 'warn' },
    secrets: Object.keys(APP_SECRETS),
    healthPath: '/healthz',
    readyPath: '/readyz',
  });
  return {
    staging: await environment('staging'),
    production: await environment('production'),
    promotion: { mode: 'auto', approvers: ['alice'], timeoutMs: 60_000, onTimeout: 'rollback' },
    smoke: {
      routes: ['/api/insights?q=pricing'],
      webhookPath: '/webhooks/stripe',
      revenuePath: '/metrics/revenue',
      webhookSecret: 'STRIPE_WEBHOOK_SECRET',
    },
    verification: {
      durationMs: 3000,
      intervalMs: 500,
      maxErrorRate: 0.01,
      maxP95LatencyMs: 800,
      revenuePath: '/metrics/revenue',
    },
    ...overrides,
  };
}

/** A steady loop of GETs against `url`: counts answers and failures until stopped. */
export function requestLoop(
  url: string,
  concurrency = 4,
): { stop: () => Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const client = async (): Promise<void> => {
    while (running) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
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
  };
}

/** Polls until the run shows `phase`; fails if the run ends first (so a lost run cannot hang the test). */
export async function waitForPhase(handle: WorkflowHandle, phase: ReleasePhase): Promise<ReleaseStatus> {
  for (;;) {
    const status = await handle.query(statusQuery);
    if (status.phase === phase) return status;
    if (['succeeded', 'failed', 'rolled-back', 'cancelled'].includes(status.phase)) {
      throw new Error(`run ended in ${status.phase} while waiting for ${phase}: ${status.failure ?? ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
