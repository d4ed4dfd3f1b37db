/** Plans, contexts and env handling shared by the Dagger contract tests. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StageError } from '../../src/runners/errors.js';
import type { StageRunContext } from '../../src/runners/types.js';
import type { StagePlan } from '../../src/types.js';
import type { FakeDaggerSession } from './fake-dagger-session.js';

/** A test-suite plan with two steps; override any field. */
export function testPlan(overrides: Partial<StagePlan> = {}): StagePlan {
  return {
    name: 'test-suite',
    needs: [],
    image: 'node:20-slim',
    steps: [
      { run: ['npm', 'ci'], env: {} },
      { run: ['npm', 'test', '--', '--coverage'], env: { FORCE_COLOR: '0' } },
    ],
    env: { NODE_ENV: 'test' },
    secrets: [],
    cache: true,
    timeoutMs: 30_000,
    retry: { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 10_000, maximumAttempts: 3 },
    retryableExitCodes: [75],
    ...overrides,
  };
}

/** A build plan producing a multi-stage image. */
export function buildPlan(overrides: Partial<StagePlan> = {}): StagePlan {
  return testPlan({
    name: 'build-production-image',
    image: 'node:20',
    steps: [
      { run: ['npm', 'ci'], env: {} },
      { run: ['npm', 'run', 'build'], env: {} },
    ],
    env: { TOLLGATE_REVISION: '0123456789abcdef' },
    artifact: {
      include: ['dist', 'package.json', 'package-lock.json'],
      install: ['npm', 'ci', '--omit=dev'],
      sbom: [],
    },
    ...overrides,
  });
}

/** test-stripe-integration as tollgate.config.ts has it: stripe-mock bound beside the steps. */
export function stripeStage(overrides: Partial<StagePlan> = {}): StagePlan {
  return testPlan({
    name: 'test-stripe-integration',
    steps: [{ run: ['npm', 'run', 'test:stripe'], env: {} }],
    env: {},
    services: [
      {
        name: 'stripe-mock',
        image: 'stripe/stripe-mock:v0.203.0',
        port: 12111,
        env: { STRIPE_MOCK_URL: 'http://stripe-mock:12111' },
      },
    ],
    ...overrides,
  });
}

/** Adds a package-lock.json to the context's source, so the runner installs with `npm ci`. */
export function withLockfile(ctx: StageRunContext): StageRunContext {
  writeFileSync(join(ctx.sourceDir, 'package-lock.json'), '{"name":"app","lockfileVersion":3}\n');
  return ctx;
}

/** A fresh source directory (with the folders the runner must not upload) and run directory. */
export function stageContext(overrides: Partial<StageRunContext> = {}): StageRunContext {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-dagger-'));
  const sourceDir = join(root, 'app');
  for (const dir of ['node_modules', '.git', 'dist', 'src'])
    mkdirSync(join(sourceDir, dir), { recursive: true });
  writeFileSync(join(sourceDir, 'package.json'), '{"name":"app"}\n');
  return {
    runId: 'release-app-0123456789ab-test',
    attempt: 1,
    sourceDir,
    runDir: join(root, 'run'),
    secrets: {},
    signal: new AbortController().signal,
    ...overrides,
  };
}

const ENGINE_VARS = ['DAGGER_SESSION_PORT', 'DAGGER_SESSION_TOKEN', '_EXPERIMENTAL_DAGGER_CLI_BIN'] as const;

/** Points the SDK at `session` (or at a bare port) until the returned function restores the env. */
export function useSession(session: FakeDaggerSession | { port: number; token: string }): () => void {
  const saved = ENGINE_VARS.map((name) => [name, process.env[name]] as const);
  process.env['DAGGER_SESSION_PORT'] = String(session.port);
  process.env['DAGGER_SESSION_TOKEN'] = session.token;
  delete process.env['_EXPERIMENTAL_DAGGER_CLI_BIN'];
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** The StageError a stage run rejects with (fails the test when it passes or throws anything else). */
export async function stageRejection(run: Promise<unknown>): Promise<StageError> {
  try {
    await run;
  } catch (error) {
    assert.ok(error instanceof StageError, `expected a StageError, got ${String(error)}`);
    return error;
  }
  assert.fail('the stage passed');
}
