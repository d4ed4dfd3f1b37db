/** Runs the real `tollgate` CLI and worker as processes against a test server, on a repository of the sample app. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  APP_SECRETS,
  freePort,
  sampleCommit,
  servedIn,
  stopSampleEnvironments,
} from '../support/delivery.js';
import { runCli, type CliResult } from '../support/cli.js';
import { gitIn } from '../support/stages.js';
import { ROOT, TEST_CACHE_DIR, toolBinary, temporalEnv } from '../support/temporal.js';

/** What a scenario's config says. */
export interface ScenarioOptions {
  /** The sample's six stages (else only the health check and the build). */
  fullStages: boolean;
  /** The gate before production. */
  promotion: 'auto' | 'manual';
  /** The verification window of production, e.g. '3s'. */
  verification?: string;
  /** For the Dagger runner: stripe-mock as a service of test-stripe-integration, as tollgate.config.ts has it. */
  containers?: boolean;
  /** Seconds a production release waits before it starts: its deploy lasts at least that long (tests that act mid-deploy). */
  productionStartDelayS?: number;
}

/**
 * A place for one scenario: its own home and task queue, and its own git repository of the sample
 * app with the config in it (so `tollgate run` finds the repository, as in a user's clone).
 */
let stripeMockBin: string | undefined;

export class Scenario {
  readonly workers: ChildProcess[] = [];
  readonly home: string;
  readonly repo: string;
  readonly configPath: string;

  constructor(
    readonly env: TestWorkflowEnvironment,
    dir: string,
    readonly taskQueue: string,
  ) {
    this.home = join(dir, 'home');
    this.repo = join(dir, 'repo');
    this.configPath = join(this.repo, 'tollgate.config.ts');
  }

  /** Writes the config into the repository and commits it (the first commit, tagged `label`). */
  async init(options: ScenarioOptions, label = 'first'): Promise<string> {
    sampleCommit(this.repo, label); // makes the repository
    writeFileSync(this.configPath, await configText(options));
    return this.commit(label);
  }

  /** Commits a change (the RELEASE file says `label`), tags it `label`, and returns the full SHA. */
  commit(label: string): string {
    const { commit } = sampleCommit(this.repo, label);
    gitIn(this.repo, 'tag', '--force', label);
    return commit;
  }

  /** The environment CLI and worker processes get. */
  processEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...APP_SECRETS,
      ...temporalEnv(this.env),
      TOLLGATE_HOME: this.home,
      TOLLGATE_CACHE_DIR: TEST_CACHE_DIR,
      TOLLGATE_TASK_QUEUE: this.taskQueue,
      TOLLGATE_RUNNER: 'host',
      // The sample's test:stripe starts this stripe-mock (the test home has no tool cache of its own).
      STRIPE_MOCK_BIN: (stripeMockBin ??= toolBinary('stripe-mock')),
    };
  }

  /** Runs `tollgate <args>` to completion. */
  cli(...args: string[]): Promise<CliResult> {
    return this.cliWith({}, ...args);
  }

  /** Runs `tollgate <args>` with extra environment variables. */
  cliWith(extraEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
    return runCli(args, { ...this.processEnv(), ...extraEnv });
  }

  /** What an environment of the sample app serves now. */
  serving(name: 'staging' | 'production'): Promise<string | null> {
    return servedIn(this.home, name);
  }

  /** Starts `node dist/src/worker.js`, as an operator would. */
  startWorker(extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
    const worker = spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
      cwd: ROOT,
      env: { ...this.processEnv(), ...extraEnv },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.workers.push(worker);
    return worker;
  }

  /** SIGKILLs every worker this scenario started. */
  async killWorkers(): Promise<void> {
    await Promise.all(
      this.workers
        .filter((w) => w.exitCode === null && w.signalCode === null)
        .map((w) => new Promise((resolve) => w.once('exit', resolve).kill('SIGKILL'))),
    );
  }

  /** Kills the workers and stops the environments (test cleanup). */
  async stop(): Promise<void> {
    await this.killWorkers();
    await stopSampleEnvironments([this.home]);
  }
}

/** tollgate.config.ts's stripe-mock service, for stages in containers. */
const STRIPE_SERVICE = `,
        services: [{ name: 'stripe-mock', image: 'stripe/stripe-mock:v0.203.0', port: 12111, env: { STRIPE_MOCK_URL: 'http://stripe-mock:12111' } }]`;

/** The sample app's config (schema 2) with free ports and a short verification window. */
async function configText(options: ScenarioOptions): Promise<string> {
  const [staging, production] = [await freePort(), await freePort()];
  const stages = options.fullStages
    ? `{
      'quick-health-check': { steps: [['npm', 'install', '--no-audit', '--no-fund', '--prefer-offline'], ['npm', 'run', 'health']] },
      'test-suite': { steps: [['npm', 'test']], coverageMinimum: 90 },
      'test-stripe-integration': { needs: ['test-suite'], steps: [['npm', 'run', 'test:stripe']]${options.containers ? STRIPE_SERVICE : ''} },
      'test-rag-engine': { needs: ['test-suite'], steps: [['npm', 'run', 'test:rag']] },
      'verify-revenue-metrics': { needs: ['test-suite'], steps: [['npm', 'run', 'verify:revenue']] },
      'build-production-image': {
        needs: ['test-stripe-integration', 'test-rag-engine', 'verify-revenue-metrics'],
        steps: [['npm', 'run', 'build']],
        artifact: ARTIFACT,
      },
    }`
    : `{
      'quick-health-check': { steps: [['npm', 'run', 'health']] },
      'build-production-image': { steps: [['npm', 'run', 'build']], artifact: ARTIFACT },
    }`;
  return `
const ARTIFACT = {
  include: ['dist', 'package.json', 'package-lock.json', 'node_modules'],
  install: ['npm', 'prune', '--omit=dev', '--no-audit', '--no-fund'],
};
const release = {
  start: ['node', 'dist/server.js'],
  env: { DATABASE_PATH: '\${TOLLGATE_DATA_DIR}/saas.db', LOG_LEVEL: 'warn' },
  secrets: ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'],
};
export default {
  app: 'saas-app',
  runner: 'host',${options.containers ? "\n  defaults: { image: 'node:20' }," : ''}
  dependencies: [{ path: 'node_modules', key: ['package-lock.json'] }],
  stages: ${stages},
  environments: [
    { name: 'staging', port: ${staging}, ...release, smoke: { routes: ['/api/insights?q=pricing'] } },
    {
      name: 'production',
      port: ${production},
      ...release,${
        options.productionStartDelayS
          ? `
      start: ['sh', '-c', 'sleep ${options.productionStartDelayS}; exec node dist/server.js'],`
          : ''
      }
      promotion: { mode: '${options.promotion}', approvers: ['alice'], timeout: '10m' },
      verification: { duration: '${options.verification ?? '3s'}', interval: '500ms', maxP95LatencyMs: 800 },
    },
  ],
  revenue: {},
};
`;
}
