/** Runs the real `tollgate` CLI and worker as processes against a test server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { APP_DIR, APP_SECRETS, freePort } from '../support/delivery.js';
import { runCli, type CliResult } from '../support/cli.js';
import { ROOT } from '../support/temporal.js';

/** A place for one scenario: its own home, task queue and config file, sharing the test server. */
export class Scenario {
  readonly workers: ChildProcess[] = [];
  constructor(
    readonly env: TestWorkflowEnvironment,
    readonly home: string,
    readonly taskQueue: string,
    readonly configPath: string,
  ) {}

  /** The environment CLI and worker processes get. */
  processEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...APP_SECRETS,
      TEMPORAL_ADDRESS: this.env.address,
      TOLLGATE_HOME: this.home,
      TOLLGATE_TASK_QUEUE: this.taskQueue,
      TOLLGATE_RUNNER: 'host',
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

  /** Starts `node dist/src/worker.js`, as an operator would. */
  startWorker(): ChildProcess {
    const worker = spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
      cwd: ROOT,
      env: this.processEnv(),
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
}

/** Writes a pipeline config for the sample app with free ports and a short verification window. */
export async function writeConfig(
  dir: string,
  options: { fullStages: boolean; promotion: 'auto' | 'manual'; verification?: string },
): Promise<string> {
  const [staging, production] = [await freePort(), await freePort()];
  const stages = options.fullStages
    ? `{
      'quick-health-check': { steps: [['npm', 'install', '--no-audit', '--no-fund', '--prefer-offline'], ['npm', 'run', 'health']] },
      'test-suite': { steps: [['npm', 'test']], coverageMinimum: 90 },
      'test-stripe-integration': { steps: [['npm', 'run', 'test:stripe']] },
      'test-rag-engine': { steps: [['npm', 'run', 'test:rag']] },
      'verify-revenue-metrics': { steps: [['npm', 'run', 'verify:revenue']] },
      'build-production-image': { steps: [['npm', 'run', 'build']], artifact: ARTIFACT },
    }`
    : `{
      'quick-health-check': { steps: [['npm', 'run', 'health']] },
      'build-production-image': { steps: [['npm', 'run', 'build']], artifact: ARTIFACT },
    }`;
  const config = `
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
  source: ${JSON.stringify(APP_DIR)},
  runner: 'host',
  stages: ${stages},
  environments: [
    { name: 'staging', port: ${staging}, ...release },
    { name: 'production', port: ${production}, ...release },
  ],
  promotion: { mode: '${options.promotion}', approvers: ['alice'], timeout: '10m' },
  smoke: { routes: ['/api/insights?q=pricing'] },
  verification: { duration: '${options.verification ?? '3s'}', interval: '500ms', maxP95LatencyMs: 800 },
};
`;
  const path = join(dir, 'tollgate.config.ts');
  writeFileSync(path, config);
  return path;
}
