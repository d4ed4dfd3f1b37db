/**
 * Time-skipping workflow tests: Temporal's Java test server (scripts/ensure-tools installs it), the
 * release input decision tests vary, and workers that run the real workflow bundle with the stub
 * activities of stub-activities.ts.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundlePath } from '../../src/bundle.js';
import { statusFrom } from '../../src/cli/runs.js';
import { SEARCH_ATTRIBUTES } from '../../src/constants.js';
import type {
  EnvironmentPlan,
  PromotionPlan,
  ReleaseInput,
  ReleaseResult,
  ReleaseStatus,
  VerificationPlan,
} from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { environmentPlan } from './stages.js';
import { pipelineStages } from './stages.js';
import {
  CallLog,
  STUB_COMMIT,
  STUB_TREE,
  stubActivities,
  type EnvironmentName,
  type StubOptions,
} from './stub-activities.js';
import { quietRuntime, testDataConverter, toolBinary, uniqueIds } from './temporal.js';

const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/**
 * Warnings these tests cause on purpose, left out of their output: the failures stubs raise and the
 * runs they fail (each test asserts them), and core's note, once per worker, that the test server
 * does not advertise a capability. Other warnings, such as a failing workflow task, still show.
 */
function expected(message: string): boolean {
  return (
    message === 'Activity failed' ||
    message === 'Workflow failed' ||
    message.includes('activity_failure_include_heartbeat')
  );
}

/** quietRuntime's installer: warnings and errors, core's forwarded, without the expected ones. */
function installQuietRuntime(): Runtime {
  const stderr = new DefaultLogger('WARN');
  return Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      if (!expected(message)) stderr.log(level, message, meta);
    }),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
  });
}

/** Starts a time-skipping test server with Tollgate's search attributes registered. */
async function startEnvironment(): Promise<TestWorkflowEnvironment> {
  quietRuntime(installQuietRuntime);
  const dataConverter = testDataConverter();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    ...(dataConverter ? { client: { dataConverter } } : {}),
    // The SDK would download the server; the launcher from ensure-tools runs the one Maven resolved.
    server: { executable: { type: 'existing-path', path: toolBinary('temporal-test-server') } },
  });
  // The release workflow upserts Tollgate's search attributes; a server that does not know them fails its tasks.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.values(SEARCH_ATTRIBUTES).map((name) => [name, KEYWORD])),
  });
  return env;
}

/**
 * A test file's time-skipping server: started once (`before`), stopped in `after`, and replaced
 * before the next run when a test gave up on a run midway. The Java test server stops skipping time
 * for good when an activity timeout fires for a run that has closed (a lock it never releases), so a
 * run abandoned with an activity in flight would stall every test after it.
 */
export class TimeSkippingServer {
  private env?: TestWorkflowEnvironment;
  private abandoned = false;

  async start(): Promise<void> {
    this.env = await startEnvironment();
  }

  async stop(): Promise<void> {
    await this.env?.teardown();
    this.env = undefined;
  }

  /** The environment for the next run: a fresh server if a run was abandoned since the last one. */
  async forRun(): Promise<TestWorkflowEnvironment> {
    if (this.abandoned) {
      this.abandoned = false;
      await this.stop();
      await this.start();
    }
    if (!this.env) throw new Error('TimeSkippingServer.start() has not run (call it in before())');
    return this.env;
  }

  /** Says a run was left unfinished: the next run gets a fresh server. */
  abandon(): void {
    this.abandoned = true;
  }
}

// ---- The release a decision test runs ----

/** Someone the default gate lists as an approver, and someone it does not. */
export const APPROVER = 'alice';
export const NOT_AN_APPROVER = 'mallory';

/** What decision tests vary; decisionInput turns it into the workflow's input. */
export interface DecisionOverrides {
  /** The promotion gate: auto by default; manual gates wait 30 minutes, then roll back. */
  gate?: Partial<PromotionPlan>;
  /** The verification window: 10 minutes, a sample every 2, by default. */
  verification?: Partial<VerificationPlan>;
  /** Stop after this stage. */
  until?: string;
}

/** The default verification window: 10 minutes, a sample every 2 (the server skips the waits). */
const VERIFICATION_WINDOW = { durationMs: 10 * 60_000, intervalMs: 2 * 60_000 };

/** How many verification samples the default window takes. */
export const DEFAULT_SAMPLES = VERIFICATION_WINDOW.durationMs / VERIFICATION_WINDOW.intervalMs;

/**
 * The one place these tests build the release workflow's input: the sample's six command stages,
 * staging (smoke-tested, with the signed revenue events) then production behind a promotion gate
 * and a verification window. A change of the input's shape lands here.
 */
export function decisionInput(overrides: DecisionOverrides = {}): ReleaseInput {
  const environment = (name: EnvironmentName, port: number): EnvironmentPlan =>
    environmentPlan('fixture', name, port);
  return {
    schemaVersion: 2,
    app: 'fixture',
    source: {
      repository: '/stub/repository',
      commit: STUB_COMMIT,
      tree: STUB_TREE,
      subdir: '',
      revision: 'main',
    },
    runner: 'host',
    requestedBy: 'decision-test',
    stages: pipelineStages(),
    dependencies: [],
    // Cancellation reaches a stage with its next heartbeat, which the SDK sends at most every 80% of this.
    heartbeatTimeoutMs: 1000,
    ...(overrides.until ? { until: overrides.until } : {}),
    environments: [
      {
        environment: environment('staging', 4101),
        promotion: { mode: 'auto', approvers: [], timeoutMs: 30 * 60_000, onTimeout: 'rollback' },
        smoke: { routes: ['/api/insights'], revenueEvents: true },
      },
      {
        environment: environment('production', 4102),
        promotion: {
          mode: 'auto',
          approvers: [APPROVER],
          timeoutMs: 30 * 60_000,
          onTimeout: 'rollback',
          ...overrides.gate,
        },
        verification: {
          ...VERIFICATION_WINDOW,
          maxErrorRate: 0.01,
          maxP95LatencyMs: 800,
          ...overrides.verification,
        },
      },
    ],
    revenue: {
      webhookPath: '/webhooks/stripe',
      revenuePath: '/metrics/revenue',
      webhookSecret: 'STRIPE_WEBHOOK_SECRET',
      stripeKeySecret: 'STRIPE_SECRET_KEY',
    },
  };
}

// ---- Running a release ----

/** How a run ended, from the result or from the failure the workflow raised. */
export interface Ending {
  outcome: ReleaseResult['outcome'];
  /** The result's status, or the one the failure carries; absent when the run was cancelled. */
  status?: ReleaseStatus;
  /** The failure's type and message, when the run did not succeed. */
  failure?: { type: string | undefined; message: string };
}

/** A handle on the release workflow. */
export type ReleaseHandle = WorkflowHandle<ReleaseWorkflow>;

/** One stubbed release run. */
export interface ReleaseRunOptions {
  /** Names the run's (unique) workflow id and task queue. */
  label: string;
  input: ReleaseInput;
  stubs?: StubOptions;
  /**
   * Talks to the run (queries, updates, cancellation) before its result is awaited. The test server
   * skips time only while a result is awaited, so while this runs the run's timers keep real time.
   */
  drive?: (handle: ReleaseHandle, log: CallLog) => Promise<void>;
}

/** A worker on `taskQueue` running the prebuilt workflow bundle (`npm run build`) with stub activities logging to `log`. */
export function createStubWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  log: CallLog,
  stubs: StubOptions = {},
): Promise<Worker> {
  const dataConverter = testDataConverter();
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: workflowBundlePath(dataConverter) },
    ...(dataConverter ? { dataConverter } : {}),
    activities: stubActivities(log, stubs),
  });
}

/** How long one run may take in real time (seconds when it works): a stuck run then fails its test, not the suite. */
const RUN_LIMIT_MS = 60_000;

/** Runs one release on a worker with the real workflow bundle and stub activities; returns how it ended. */
export async function runRelease(
  server: TimeSkippingServer,
  { label, input, stubs, drive }: ReleaseRunOptions,
): Promise<{ ending: Ending; log: CallLog }> {
  const env = await server.forRun();
  const { taskQueue, workflowId } = uniqueIds(label);
  const log = new CallLog();
  const worker = await createStubWorker(env, taskQueue, log, stubs);
  const ending = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [input],
    });
    try {
      await within(Promise.resolve(drive?.(handle, log)), `${workflowId}: drive`);
      return await within(endingOf(handle), workflowId);
    } catch (error) {
      server.abandon();
      throw error;
    }
  });
  return { ending, log };
}

/** `promise`, or a rejection once it has taken RUN_LIMIT_MS of real time. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: still running after ${RUN_LIMIT_MS} ms`)),
      RUN_LIMIT_MS,
    );
  });
  try {
    return await Promise.race([promise, overrun]);
  } finally {
    clearTimeout(timer);
  }
}

/** Awaits the run's result (the server skips time meanwhile) and says how it ended. */
async function endingOf(handle: ReleaseHandle): Promise<Ending> {
  try {
    const { outcome, status } = await handle.result();
    return { outcome, ...(statusFrom(status) ? { status: statusFrom(status)! } : {}) };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const { cause } = error;
    if (cause instanceof CancelledFailure) {
      return { outcome: 'cancelled', failure: { type: undefined, message: cause.message } };
    }
    if (!(cause instanceof ApplicationFailure)) throw error;
    const status = statusFrom(cause.details?.[0]);
    return {
      outcome: status?.phase === 'rolled-back' ? 'rolled-back' : 'failed',
      ...(status ? { status } : {}),
      failure: { type: cause.type ?? undefined, message: cause.message },
    };
  }
}
