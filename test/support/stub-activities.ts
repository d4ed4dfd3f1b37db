/**
 * Stub activities for workflow tests: every activity the workflows call, each recording its call
 * in an ordered log before answering, with passing defaults and per-test overrides.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Activities } from '../../src/activities/index.js';
import { FailureType } from '../../src/failures.js';
import type {
  ArtifactRef,
  AuditEntry,
  EnvironmentPlan,
  StagePlan,
  StageResult,
  VerificationSample,
} from '../../src/types.js';

/** The environments the stubs know by name (decisionInput releases to these). */
export type EnvironmentName = 'staging' | 'production';

/** The activities' names. */
export type ActivityName = keyof Activities;

/** One activity call as its stub saw it. */
export interface ActivityCall {
  /** How expectations name the call (see `call`): `runStage test-suite`, `deployRelease staging`. */
  label: string;
  activity: ActivityName;
  args: unknown[];
  attempt: number;
  /** The stub's own clock (Date.now()) as the call began, and as it settled. */
  startedAt: number;
  endedAt?: number;
  outcome?: 'completed' | 'failed' | 'cancelled';
  /** How many calls of the run had begun when this one settled: orders ends against starts exactly. */
  begunWhenSettled?: number;
}

/**
 * Labels of calls, one spelling for the stubs that record them and the tests that expect them.
 * Environment activities carry the environment's name; verification samples are told apart from the
 * baseline by the baseline they compare against.
 */
export const call = {
  prepareSource: 'prepareSource',
  closeWorkspace: 'closeWorkspace',
  stage: (name: string): string => `runStage ${name}`,
  deploy: (environment: EnvironmentName): string => `deployRelease ${environment}`,
  activate: (environment: EnvironmentName): string => `activateRelease ${environment}`,
  restore: (environment: EnvironmentName): string => `restoreEnvironment ${environment}`,
  settle: (environment: EnvironmentName): string => `settleEnvironment ${environment}`,
  smokeTest: (environment: EnvironmentName = 'staging'): string => `smokeTest ${environment}`,
  releaseHealth: 'checkReleaseHealth',
  baseline: (environment: EnvironmentName = 'production'): string =>
    `sampleEnvironment ${environment} baseline`,
  sample: (environment: EnvironmentName = 'production'): string => `sampleEnvironment ${environment}`,
  discardArtifact: 'discardArtifact',
  approvalsRequired: 'approvalsRequired',
  verifyApproval: (action: 'promote' | 'rollback'): string => `verifyApproval ${action}`,
  audit: 'recordAudit',
  notify: (kind: string): string => `notify ${kind}`,
} as const;

/** Every activity call of one run, in the order the calls began. */
export class CallLog {
  readonly calls: ActivityCall[] = [];

  /** Labels in order, without notifications: they run in the background, in no fixed order (see `notified`). */
  steps(): string[] {
    return this.calls.filter((c) => c.activity !== 'notify').map((c) => c.label);
  }

  /** The kinds of notification the run sent, in order. */
  notified(): string[] {
    return this.calls.filter((c) => c.activity === 'notify').map((c) => (c.args[0] as { kind: string }).kind);
  }

  /** The calls with this label. */
  of(label: string): ActivityCall[] {
    return this.calls.filter((c) => c.label === label);
  }

  /** Whether any call with this label began. */
  has(label: string): boolean {
    return this.calls.some((c) => c.label === label);
  }

  /** Resolves once a call with this label has begun (polling; fails after STUB_PATIENCE_MS). */
  async waitFor(label: string): Promise<void> {
    const giveUpAt = Date.now() + STUB_PATIENCE_MS;
    while (!this.has(label)) {
      if (Date.now() > giveUpAt) throw new Error(`no ${label} call within ${STUB_PATIENCE_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The audit trail the run recorded (its last recordAudit call), or [] when it recorded none. */
  audit(): AuditEntry[] {
    const last = this.of(call.audit).at(-1);
    return last ? (last.args[0] as AuditEntry[]) : [];
  }
}

/** How a stub stage behaves when runStage is called for it. */
export type StageBehaviour = (plan: StagePlan, log: CallLog) => Promise<StageResult>;

/** Per-test changes to the stubs: stages by name, and whole activities (a failing compensation, a breach). */
export interface StubOptions {
  stages?: Record<string, StageBehaviour>;
  activities?: Partial<Activities>;
}

/** How long a waiting stub waits, by its own clock, before it fails: a wrong run then fails instead of hanging. */
const STUB_PATIENCE_MS = 30_000;

/**
 * Heartbeats until `done()` holds. Cancellation reaches an activity only through heartbeats:
 * `Context.sleep` rejects with the CancelledFailure as soon as `Context.cancelled` does.
 */
async function heartbeatUntil(done: () => boolean, what: string): Promise<void> {
  const ctx = Context.current();
  const giveUpAt = Date.now() + STUB_PATIENCE_MS;
  while (!done()) {
    if (Date.now() > giveUpAt) {
      throw ApplicationFailure.create({
        type: 'StubGaveUp',
        message: `stub ${what}: still waiting after ${STUB_PATIENCE_MS} ms`,
        nonRetryable: true,
      });
    }
    ctx.heartbeat();
    await ctx.sleep(50);
  }
}

/** A passing stage's result; the build's carries an artifact, as the runners' do. */
export function stageResult(plan: StagePlan): StageResult {
  const now = new Date().toISOString();
  return {
    name: plan.name,
    runner: 'host',
    attempt: Context.current().info.attempt,
    startedAt: now,
    endedAt: now,
    durationMs: 1,
    exitCode: 0,
    summary: `${plan.name} passed (stub)`,
    logTail: '',
    logPath: `/stub/logs/${plan.name}.log`,
    ...(plan.artifact ? { artifact: STUB_ARTIFACT } : {}),
  };
}

/** The artifact the stub build produces. */
export const STUB_ARTIFACT: ArtifactRef = {
  path: '/stub/artifacts/fixture.tar.gz',
  digest: `sha256:${'ab12'.repeat(16)}`,
  kind: 'tarball',
  sizeBytes: 1024,
};

/** The commit and tree the stub source has. */
export const STUB_COMMIT = 'c0ffee'.repeat(6) + 'c0ff';
export const STUB_TREE = 'feed'.repeat(10);

/** The release each environment serves before the run: deploys report it as `previous`. */
export const PREVIOUS_RELEASE = 'fixture-previous';

/** A stage that passes (the default). */
const passes: StageBehaviour = (plan) => Promise.resolve(stageResult(plan));

/** Stage behaviours for StubOptions.stages. */
export const stage = {
  passes,

  /** Fails as a runner reports a failed stage: a non-retryable ApplicationFailure of `type` with the stage's details. */
  failsWith:
    (type: FailureType): StageBehaviour =>
    (plan) => {
      const attempt = Context.current().info.attempt;
      throw ApplicationFailure.create({
        type,
        message: `${plan.name}: failed (stub, ${type})`,
        nonRetryable: true,
        details: [{ stage: plan.name, attempt, exitCode: 1, logTail: '', logPath: '', type }],
      });
    },

  /** Runs until the workflow cancels it, heartbeating, then throws the CancelledFailure, as a real stage does. */
  waitsForCancellation: (): StageBehaviour => async (plan) => {
    await heartbeatUntil(() => false, `${plan.name} waiting for cancellation`);
    throw new Error(`${plan.name}: heartbeatUntil(() => false) returned`); // it only ends by throwing
  },

  /** Waits until every stage in `others` has started too, then behaves as `then`: proof they run at once. */
  afterStarted:
    (others: readonly string[], then: StageBehaviour = passes): StageBehaviour =>
    async (plan, log) => {
      const started = () => others.every((name) => log.has(call.stage(name)));
      await heartbeatUntil(started, `${plan.name} waiting for ${others.join(', ')} to start`);
      return then(plan, log);
    },
};

/** An environment's restore (the compensation), as the real activity describes it. */
function restored(args: {
  environment: Pick<EnvironmentPlan, 'name'>;
  previous: string | null;
}): Promise<string> {
  return Promise.resolve(`${args.environment.name} serves ${args.previous ?? 'nothing'} again`);
}

/** A verification sample with nothing wrong. */
export function healthySample(): VerificationSample {
  return {
    at: new Date().toISOString(),
    healthy: true,
    requests: 100,
    errorRate: 0,
    p95LatencyMs: 40,
    revenueEvents: 10,
  };
}

/** Overrides: restoring `environment` fails every attempt (retryably, so the compensation's retries are spent). */
export function failingRestore(environment: EnvironmentName): Partial<Activities> {
  return {
    restoreEnvironment: (args) => {
      if (args.environment.name !== environment) return restored(args);
      throw ApplicationFailure.create({
        type: FailureType.EnvironmentFailed,
        message: `${environment} proxy unreachable (stub)`,
      });
    },
  };
}

/** Overrides: settling an environment (after the window) waits, heartbeating, until `go()` holds. */
export function settlesWhen(go: () => boolean): Partial<Activities> {
  return {
    settleEnvironment: async ({ environment }) => {
      await heartbeatUntil(go, `settling ${environment.name}`);
      return { parked: PREVIOUS_RELEASE, retired: [] };
    },
  };
}

/** Overrides: the staging smoke test fails with SmokeTestFailed. */
export function failingSmokeTest(): Partial<Activities> {
  return {
    smokeTest: () => {
      throw ApplicationFailure.create({
        type: FailureType.SmokeTestFailed,
        message: 'smoke-test-staging: 1 of 4 checks failed: webhook (HTTP 500) (stub)',
        nonRetryable: true,
      });
    },
  };
}

/** Overrides: the baseline is healthy, every verification sample breaches `signal`. */
export function breachingSamples(
  signal: NonNullable<VerificationSample['breach']>['signal'],
  detail: string,
): Partial<Activities> {
  return {
    sampleEnvironment: (args) =>
      Promise.resolve(
        args.baseline ? { ...healthySample(), errorRate: 0.2, breach: { signal, detail } } : healthySample(),
      ),
  };
}

/** The stubs' answers unless a test says otherwise: everything passes, each environment had a release before. */
function defaultActivities(log: CallLog, stages: StubOptions['stages'] = {}): Activities {
  return {
    prepareSource: ({ source }) =>
      Promise.resolve({
        commit: source.commit,
        tree: source.tree ?? STUB_TREE,
        workspace: '/stub/workspace',
        fetched: false,
        checkedOut: true,
        dependencies: [],
        timings: { fetchMs: 0, checkoutMs: 0, restoreMs: 0 },
      }),
    closeWorkspace: () => Promise.resolve(),
    healthSource: ({ source }) =>
      Promise.resolve({ ...source, commit: STUB_COMMIT, tree: null, revision: 'HEAD' }),
    runStage: ({ plan }) => (stages[plan.name] ?? passes)(plan as StagePlan, log),
    discardArtifact: () => Promise.resolve(),
    smokeTestImage: () => Promise.resolve([]),
    approvalsRequired: () => Promise.resolve({ required: false }),
    verifyApproval: () => Promise.resolve({ ok: true, required: false }),
    deployRelease: ({ environment, release }) =>
      Promise.resolve({
        deployed: {
          releaseId: release.releaseId,
          ref: release.ref,
          digest: release.artifact.digest,
          url: `http://127.0.0.1:${environment.port + 1000}`,
          pid: 0,
          startedAt: new Date().toISOString(),
        },
        previous: PREVIOUS_RELEASE,
      }),
    activateRelease: () => Promise.resolve({ previous: PREVIOUS_RELEASE }),
    setCanary: () => Promise.resolve({ previousWeight: null }),
    clearCanary: () => Promise.resolve({ cleared: null }),
    probeCanary: () => Promise.resolve({ sent: 0, failed: 0 }),
    paymentProbesAllowed: () => Promise.resolve({}),
    loadTest: () =>
      Promise.resolve({
        requests: 1,
        errors: 0,
        errorRate: 0,
        p50Ms: 1,
        p95Ms: 1,
        p99Ms: 1,
        achievedRate: 1,
        durationS: 1,
      }),
    readCanary: ({ step, weight }) =>
      Promise.resolve({
        step,
        weight,
        canary: { requests: 0, errors: 0, latency: { boundsMs: [], counts: [0] }, healthy: true },
      }),
    restoreEnvironment: restored,
    smokeTest: () => Promise.resolve([{ name: 'health', ok: true, detail: '200 (stub)' }]),
    sampleEnvironment: () => Promise.resolve(healthySample()),
    sampleProduction: () => Promise.resolve(healthySample()),
    checkReleaseHealth: () => Promise.resolve(),
    rollbackToPrevious: () => Promise.resolve({ from: 'fixture-current', to: PREVIOUS_RELEASE }),
    settleEnvironment: () => Promise.resolve({ parked: PREVIOUS_RELEASE, retired: [] }),
    retireRelease: () => Promise.resolve(),
    recordAudit: () => Promise.resolve(),
    laneBrake: () => Promise.resolve({ braked: false, rollbacks: [], unlocked: null }),
    checkEnvironment: ({ environment }) =>
      Promise.resolve([{ name: `${environment.name} health`, ok: true, detail: '200 (stub)' }]),
    checkStripeKey: () =>
      Promise.resolve({ name: 'stripe key', ok: true, detail: 'test key (stub)', keyKind: 'test' }),
    checkRevenueFreshness: () =>
      Promise.resolve({ name: 'revenue freshness', ok: true, detail: 'fresh (stub)' }),
    notify: () => Promise.resolve({ delivered: false }),
  };
}

/** The environments the tests release to are named by EnvironmentName. */
const nameOf = (environment: Pick<EnvironmentPlan, 'name'>): EnvironmentName =>
  environment.name as EnvironmentName;

/** How each activity's calls are labelled (typed per activity: a new activity needs its label here). */
const LABELS: { [K in ActivityName]: (...args: Parameters<Activities[K]>) => string } = {
  prepareSource: () => call.prepareSource,
  closeWorkspace: () => call.closeWorkspace,
  healthSource: () => 'healthSource',
  runStage: ({ plan }) => call.stage(plan.name),
  discardArtifact: () => call.discardArtifact,
  smokeTestImage: () => 'smokeTestImage',
  approvalsRequired: () => call.approvalsRequired,
  verifyApproval: ({ action }) => call.verifyApproval(action),
  deployRelease: ({ environment }) => call.deploy(nameOf(environment)),
  activateRelease: ({ environment }) => call.activate(nameOf(environment)),
  setCanary: ({ environment, weight }) => `setCanary ${nameOf(environment)} ${weight}`,
  clearCanary: ({ environment }) => `clearCanary ${nameOf(environment)}`,
  probeCanary: ({ environment }) => `probeCanary ${nameOf(environment)}`,
  paymentProbesAllowed: () => 'paymentProbesAllowed',
  loadTest: ({ environment }) => `loadTest ${nameOf(environment)}`,
  readCanary: ({ environment }) => `readCanary ${nameOf(environment)}`,
  restoreEnvironment: ({ environment }) => call.restore(nameOf(environment)),
  smokeTest: ({ environment }) => call.smokeTest(nameOf(environment)),
  sampleEnvironment: ({ environment, baseline }) =>
    baseline ? call.sample(nameOf(environment)) : call.baseline(nameOf(environment)),
  sampleProduction: ({ baseline }) => (baseline ? call.sample() : call.baseline()),
  checkReleaseHealth: () => call.releaseHealth,
  rollbackToPrevious: ({ environment }) => `rollbackToPrevious ${environment.name}`,
  settleEnvironment: ({ environment }) => call.settle(nameOf(environment)),
  retireRelease: ({ environment }) => `retireRelease ${environment.name}`,
  recordAudit: () => call.audit,
  laneBrake: ({ app }) => `laneBrake ${app}`,
  checkEnvironment: ({ environment }) => `checkEnvironment ${environment.name}`,
  checkStripeKey: () => 'checkStripeKey',
  checkRevenueFreshness: () => 'checkRevenueFreshness',
  notify: (notification) => call.notify(notification.kind),
};

/** Every activity the workflows call, as stubs that record each call in `log` before answering. */
export function stubActivities(log: CallLog, options: StubOptions = {}): Activities {
  const impls: Activities = { ...defaultActivities(log, options.stages), ...options.activities };
  const recorded = <K extends ActivityName>(activity: K): Activities[K] => {
    // The map's value types differ per key; one untyped view lets one wrapper record them all.
    const impl = impls[activity] as (...args: unknown[]) => Promise<unknown>;
    const label = LABELS[activity] as (...args: unknown[]) => string;
    const wrapped = async (...args: unknown[]): Promise<unknown> => {
      const entry: ActivityCall = {
        label: label(...args),
        activity,
        args,
        attempt: Context.current().info.attempt,
        startedAt: Date.now(),
      };
      log.calls.push(entry);
      try {
        const result = await impl(...args);
        entry.outcome = 'completed';
        return result;
      } catch (error) {
        entry.outcome = error instanceof CancelledFailure ? 'cancelled' : 'failed';
        throw error;
      } finally {
        entry.endedAt = Date.now();
        entry.begunWhenSettled = log.calls.length;
      }
    };
    return wrapped as Activities[K];
  };
  const names = Object.keys(LABELS) as ActivityName[];
  return Object.fromEntries(names.map((name) => [name, recorded(name)])) as Activities;
}
