/**
 * The release pipeline: health, tests, revenue gates (in parallel), build, staging, smoke tests,
 * the promotion gate, blue/green production and the verification window. Every step with an undo
 * registers it on the saga; any failure, cancellation or rollback unwinds it newest first.
 *
 * FROZEN (schema 1): runs started by Tollgate 0.1 clients, and every history they recorded, replay
 * on this code, so its commands must never change; see ./README.md. New work goes to ../release/.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  metricMeter,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  condition,
} from '@temporalio/workflow';
import { REVENUE_GATES, type StageName } from './types.js';
import { FailureType } from '../../failures.js';
import { recordStageDuration, type StageOutcome } from '../../observability/metrics.js';
import type {
  DeliveryPlan,
  ReleaseInput,
  ReleasePhase,
  ReleaseRef,
  ReleaseResult,
  ReleaseStatus,
  StageFailureDetails,
  StageResult,
} from './types.js';
import { PromotionGate } from './gate.js';
import { statusQuery } from './messages.js';
import { recordReleaseOutcome, recordRollback, rollbackReason } from '../metrics.js';
import { notifyInBackground, type NotificationDraft } from '../notify.js';
import { Saga } from '../saga.js';
import {
  compensationActivities,
  environmentActivities,
  imageSmokeActivities,
  runStageActivity,
} from './stages.js';
import { changedPairs, initialSearch, renderDetails, uiStageOf, type ReleaseSearch } from './ui.js';

// Runs recorded before these steps existed replay without them (a release can wait at the gate for hours).
const NOTIFICATIONS_PATCH = 'release-notifications';
const IMAGE_SMOKE_PATCH = 'image-smoke-test';

/** The compensations that put an environment back (the saga's names for them). */
const RESTORES = ['restore staging', 'switch production back'];

/** Stages the pipeline runs through environments rather than runners. */
const DELIVERY_STAGES = ['deploy-to-staging', 'smoke-test-staging', 'deploy-to-production'] as const;

/**
 * How a phase moves the search attributes: the environment worked on, or a wait between stages.
 * (Stages set TollgateStage as they start; the revenue gates share `revenue-gates`.)
 */
const PHASE_SEARCH: Partial<Record<ReleasePhase, Partial<ReleaseSearch>>> = {
  staging: { environment: 'staging' },
  'awaiting-promotion': { stage: 'promotion-gate' },
  production: { environment: 'production' },
  verifying: { stage: 'verification' },
};

/** Takes one release of an app through the gates; fails with the stage and failure type in its message. */
export async function releasePipelineV1(input: ReleaseInput): Promise<ReleaseResult> {
  validateInput(input);
  const status: ReleaseStatus = {
    app: input.app,
    ref: input.ref,
    phase: 'starting',
    stages: {},
    compensations: [],
    audit: [],
  };
  for (const plan of input.stages) status.stages[plan.name] = { state: 'pending', attempts: 0 };
  if (input.delivery)
    for (const name of DELIVERY_STAGES) status.stages[name] = { state: 'pending', attempts: 0 };
  setHandler(statusQuery, () => status);
  const search = initialSearch(input);
  /** Applies `change` to the search attributes (an upsert only for values that differ) and refreshes the details. */
  const show = (change: Partial<ReleaseSearch> = {}): void => {
    Object.assign(search, change);
    const updates = changedPairs(search, workflowInfo().typedSearchAttributes);
    if (updates.length > 0) upsertSearchAttributes(updates);
    // Not a command: the UI reads the details through a query, so updating them often costs no history.
    setCurrentDetails(
      renderDetails(status, search, {
        workflowId: workflowInfo().workflowId,
        ...(input.delivery ? { promotion: input.delivery.promotion } : {}),
      }),
    );
  };
  const gate = new PromotionGate(status, input.delivery?.promotion, show);
  const saga = new Saga();
  /** Notifications in flight; `finish` waits for them (they never throw). */
  const notices: Promise<void>[] = [];
  const notify = (draft: NotificationDraft): void => {
    if (patched(NOTIFICATIONS_PATCH)) notices.push(notifyInBackground(input.notifications, draft));
  };
  const stop = (name: StageName): boolean => input.until === name;

  /** Runs `fn` as stage `name`, keeping the status query's entry up to date. */
  const track = async <T>(
    name: StageName,
    fn: () => Promise<T>,
    summarize: (result: T) => string,
  ): Promise<T> => {
    const entry = (status.stages[name] ??= { state: 'pending', attempts: 0 });
    Object.assign(entry, { state: 'running', startedAt: new Date().toISOString() });
    show({ stage: uiStageOf(name) });
    const startedAt = Date.now();
    // Command stages record their attempts in the activity; the delivery stages are timed here.
    const timed = (outcome: StageOutcome): void => {
      if ((DELIVERY_STAGES as readonly string[]).includes(name))
        recordStageDuration(
          metricMeter,
          { app: input.app, stage: name, outcome },
          (Date.now() - startedAt) / 1000,
        );
    };
    try {
      const result = await fn();
      timed('succeeded');
      const attempts = (result as Partial<StageResult> | undefined)?.attempt ?? 1;
      Object.assign(entry, {
        state: 'succeeded',
        attempts,
        endedAt: new Date().toISOString(),
        summary: summarize(result),
      });
      show();
      return result;
    } catch (error) {
      timed(isCancellation(error) ? 'cancelled' : 'failed');
      const details = failureDetails(error);
      Object.assign(entry, {
        state: isCancellation(error) ? 'skipped' : 'failed',
        attempts: details?.attempt ?? 1,
        endedAt: new Date().toISOString(),
        summary: failureMessage(error),
        failureType: details?.type ?? failureType(error),
      });
      show();
      throw error;
    }
  };
  const command = async (name: StageName): Promise<StageResult | undefined> => {
    const plan = input.stages.find((s) => s.name === name);
    if (!plan) return undefined;
    return track(
      name,
      () =>
        runStageActivity(
          plan,
          input.sourceDir,
          input.runner,
          input.heartbeatTimeoutMs,
          name === 'build-production-image' ? input.buildTaskQueue : undefined,
        ),
      (r) => r.summary,
    );
  };
  const phase = (next: ReleasePhase): void => {
    status.phase = next;
    log.info('release phase', { phase: next });
    show(PHASE_SEARCH[next]);
  };
  /** The outcome in the search attributes; on a failure TollgateStage names the stage that failed. */
  const ended = (outcome: ReleaseResult['outcome']): void => {
    const failed = Object.entries(status.stages).find(([, s]) => s.state === 'failed')?.[0] as
      StageName | undefined;
    show({ outcome, ...(failed ? { stage: failed } : {}) });
  };

  try {
    phase('checks');
    await command('quick-health-check');
    if (!stop('quick-health-check')) await command('test-suite');

    if (!input.until || !['quick-health-check', 'test-suite'].includes(input.until)) {
      phase('revenue-gates');
      await allOrCancel(REVENUE_GATES.map((name) => () => command(name)));
    }

    if (!input.until || ['build-production-image', ...DELIVERY_STAGES].includes(input.until)) {
      phase('build');
      const build = await command('build-production-image');
      if (build?.artifact) {
        const artifact = build.artifact;
        status.artifact = artifact;
        saga.push('discard artifact', () =>
          compensationActivities('discard artifact').discardArtifact(artifact),
        );
      }
    }

    if (
      input.delivery &&
      status.artifact &&
      (!input.until || (DELIVERY_STAGES as readonly string[]).includes(input.until))
    ) {
      const release: ReleaseRef = {
        releaseId: releaseIdOf(input, status.artifact.digest),
        app: input.app,
        ref: input.ref,
        artifact: status.artifact,
      };
      status.releaseId = release.releaseId;
      await deliver(input, input.delivery, release, { status, saga, gate, track, phase, stop, show, notify });
    }

    skipPending(status);
    phase('succeeded');
    ended('succeeded');
  } catch (error) {
    const decidedAt = Date.now();
    phase('compensating');
    status.compensations = await saga.compensate();
    // A rollback in the metrics is an undo of a deployed environment; its time to restore counts to the last undo.
    const restores = status.compensations.filter((c) => RESTORES.includes(c.name));
    if (restores.length > 0) {
      recordRollback(
        input.app,
        rollbackReason({
          cancelled: isCancellation(error),
          failureType: failureType(error),
          gateTimedOut: status.gate?.state === 'timed-out',
        }),
        restores.every((c) => c.ok) ? (Date.now() - decidedAt) / 1000 : undefined,
      );
    }
    // A rollback (by an operator or a verification breach) is an outcome of its own, but still not a release.
    const rolledBack = ([FailureType.RolledBack, FailureType.VerificationBreach] as string[]).includes(
      failureType(error) ?? '',
    );
    if (status.releaseId && (rolledBack || restores.length > 0)) {
      // Who decided: the last accepted rollback, gate timeout or automatic rollback; else the failure itself.
      const decided = [...status.audit]
        .reverse()
        .find(
          (e) => e.outcome === 'accepted' && ['rollback', 'gate-timeout', 'auto-rollback'].includes(e.action),
        );
      notify({
        kind: 'rolled-back',
        app: input.app,
        releaseId: status.releaseId,
        ref: input.ref,
        by: decided?.by ?? 'tollgate',
        reason: isCancellation(error) ? 'the run was cancelled' : failureMessage(error),
      });
    }
    skipPending(status);
    if (isCancellation(error)) {
      phase('cancelled');
      ended('cancelled');
      await finish(input, status, 'cancelled', notices);
      throw error;
    }
    phase(rolledBack ? 'rolled-back' : 'failed');
    status.failure = describeFailure(error, status); // reads the phase just set
    ended(rolledBack ? 'rolled-back' : 'failed');
    await finish(input, status, rolledBack ? 'rolled-back' : 'failed', notices);
    throw ApplicationFailure.create({
      type: failureType(error) ?? FailureType.StepFailed,
      message: status.failure,
      nonRetryable: true,
      details: [status],
    });
  }
  // Outside the try: an audit write that gives up must not undo a release that succeeded.
  return finish(input, status, 'succeeded', notices);
}

interface DeliveryContext {
  status: ReleaseStatus;
  saga: Saga;
  gate: PromotionGate;
  track: <T>(name: StageName, fn: () => Promise<T>, summarize: (result: T) => string) => Promise<T>;
  phase: (next: ReleasePhase) => void;
  stop: (name: StageName) => boolean;
  /** Refreshes the UI's view of the run (search attributes, current details). */
  show: () => void;
  /** Starts a notification; `finish` waits for it. */
  notify: (draft: NotificationDraft) => void;
}

/** Staging, smoke tests, the gate, blue/green production and verification. Throws on a breach. */
async function deliver(
  input: ReleaseInput,
  delivery: DeliveryPlan,
  release: ReleaseRef,
  { status, saga, gate, track, phase, stop, show, notify }: DeliveryContext,
): Promise<void> {
  const { verification } = delivery;
  // Environments are kept per app now; the activities read the app from the plan (not a command change).
  const staging = { ...delivery.staging, app: input.app };
  const production = { ...delivery.production, app: input.app };
  const releaseEnv = input.releaseEnv ?? {};

  phase('staging');
  const stagingPrevious = await track(
    'deploy-to-staging',
    async () => {
      const acts = environmentActivities(`deploy-to-staging: ${release.releaseId}`);
      const { previous } = await acts.deployRelease({ environment: staging, release, releaseEnv });
      saga.push('restore staging', () =>
        compensationActivities('restore staging').restoreEnvironment({
          environment: staging,
          previous,
          releaseId: release.releaseId,
        }),
      );
      await acts.activateRelease({ environment: staging, releaseId: release.releaseId });
      return previous;
    },
    (previous) => `staging serves ${release.releaseId}${previous ? ` (was ${previous})` : ''}`,
  );
  if (stop('deploy-to-staging')) return;

  await track(
    'smoke-test-staging',
    async () => {
      const checks = await environmentActivities('smoke-test-staging').smokeTest({
        environment: staging,
        smoke: delivery.smoke,
      });
      // Dagger builds also carry an image: it runs as a Dagger service and gets the same probes.
      const { image } = release.artifact;
      const probes =
        image && patched(IMAGE_SMOKE_PATCH)
          ? await imageSmokeActivities(input.buildTaskQueue).smokeTestImage({
              image,
              paths: [staging.healthPath, ...delivery.smoke.routes],
              env: { ...staging.env, ...releaseEnv },
            })
          : [];
      return { checks, probes };
    },
    ({ checks, probes }) =>
      `${checks.length} checks passed: ${checks.map((c) => c.name).join(', ')}` +
      (probes.length > 0 ? `; image: ${probes.length} probes passed in Dagger` : ''),
  );
  if (stop('smoke-test-staging')) return;

  phase('awaiting-promotion');
  const deciding = gate.decide(); // sets status.gate (with timeoutAt) before its first await
  const notified = { app: input.app, releaseId: release.releaseId, ref: input.ref };
  if (delivery.promotion.mode === 'manual' && status.gate) {
    notify({
      kind: 'gate-waiting',
      ...notified,
      approvers: delivery.promotion.approvers,
      timeoutAt: status.gate.timeoutAt,
      onTimeout: delivery.promotion.onTimeout,
    });
  }
  const decision = await deciding;
  if (decision.action === 'rollback') {
    throw rolledBack(
      `at the promotion gate by ${decision.by}${decision.reason ? `: ${decision.reason}` : ''}`,
    );
  }

  phase('production');
  let switchedAt = '';
  const productionPrevious = await track(
    'deploy-to-production',
    async () => {
      const acts = environmentActivities(`deploy-to-production: ${release.releaseId}`);
      // Blue/green: the new release starts beside the old one and is checked before it gets traffic.
      const { deployed, previous } = await acts.deployRelease({
        environment: production,
        release,
        releaseEnv,
      });
      await acts.checkReleaseHealth({ url: deployed.url, path: production.healthPath });
      const baseline = await environmentActivities('verification baseline').sampleProduction({
        environment: production,
        verification,
        since: new Date().toISOString(),
      });
      status.verification = { baseline, samples: [] };
      saga.push('switch production back', () =>
        compensationActivities('switch production back').restoreEnvironment({
          environment: production,
          previous,
          releaseId: release.releaseId,
        }),
      );
      await acts.activateRelease({ environment: production, releaseId: release.releaseId });
      switchedAt = new Date().toISOString();
      return previous;
    },
    (previous) => `production serves ${release.releaseId}${previous ? `; ${previous} kept warm` : ''}`,
  );
  notify({ kind: 'promoted', ...notified, by: decision.by });

  const endsAt = Date.now() + verification.durationMs;
  status.verification!.endsAt = new Date(endsAt).toISOString();
  phase('verifying');
  const sample = environmentActivities('verification sample');
  while (Date.now() < endsAt) {
    const rollback = await gate.rollbackRequested(
      Math.min(verification.intervalMs, Math.max(0, endsAt - Date.now())),
    );
    if (rollback) {
      throw rolledBack(
        `during verification by ${rollback.by}${rollback.reason ? `: ${rollback.reason}` : ''}`,
      );
    }
    const reading = await sample.sampleProduction({
      environment: production,
      verification,
      since: switchedAt,
      ...(status.verification?.baseline ? { baseline: status.verification.baseline } : {}),
    });
    status.verification!.samples = [...status.verification!.samples.slice(-19), reading];
    show();
    if (reading.breach) {
      status.audit.push({
        at: new Date().toISOString(),
        workflowId: workflowInfo().workflowId,
        app: input.app,
        action: 'auto-rollback',
        by: 'tollgate',
        reason: `${reading.breach.signal}: ${reading.breach.detail}`,
        releaseId: release.releaseId,
        digest: release.artifact.digest,
        outcome: 'accepted',
      });
      throw ApplicationFailure.create({
        type: FailureType.VerificationBreach,
        message: `verification breached ${reading.breach.signal}: ${reading.breach.detail}`,
        nonRetryable: true,
      });
    }
  }

  // The window passed: the releases it replaced stop (kept for `tollgate rollback --env`); older ones go.
  const settle = environmentActivities('retire replaced releases');
  if (productionPrevious) await settle.settleEnvironment({ environment: production });
  if (stagingPrevious) await settle.settleEnvironment({ environment: staging });
}

function rolledBack(how: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.RolledBack,
    message: `rolled back ${how}`,
    nonRetryable: true,
  });
}

/** Records the outcome in the audit trail (even when cancelled) and waits for message handlers. */
async function finish(
  input: ReleaseInput,
  status: ReleaseStatus,
  outcome: ReleaseResult['outcome'],
  notices: Promise<void>[],
): Promise<ReleaseResult> {
  recordReleaseOutcome(input.app, outcome);
  status.audit.push({
    at: new Date().toISOString(),
    workflowId: workflowInfo().workflowId,
    app: input.app,
    action: 'release',
    by: input.requestedBy,
    reason: status.failure ?? `${input.ref} released`,
    ...(status.releaseId ? { releaseId: status.releaseId } : {}),
    ...(status.artifact ? { digest: status.artifact.digest } : {}),
    outcome,
  });
  // Also after cancellation: the audit record must not be lost.
  await CancellationScope.nonCancellable(async () => {
    // Handlers first: a decision still being checked may add its refusal to the trail.
    await condition(allHandlersFinished);
    await compensationActivities('audit trail').recordAudit(status.audit);
    await Promise.all(notices);
  });
  return { outcome, status };
}

/**
 * Runs tasks at once; the first failure cancels the others (their processes are stopped)
 * and is rethrown once all have settled, so compensation never races a running stage.
 */
async function allOrCancel(tasks: (() => Promise<unknown>)[]): Promise<void> {
  await CancellationScope.cancellable(async () => {
    const scope = CancellationScope.current();
    let first: unknown;
    await Promise.allSettled(
      tasks.map((task) =>
        task().catch((error: unknown) => {
          if (first === undefined && !isCancellation(error)) {
            first = error;
            scope.cancel();
          }
          throw error;
        }),
      ),
    );
    if (first !== undefined) throw first as Error;
  });
}

/**
 * `<app>-<ref7>-<digest8>`, plus a hash of the release env when there is one: the same build with
 * other flags is another release (deploys of the same id are idempotent, so it must differ).
 */
export function releaseIdOf(input: ReleaseInput, digest: string): string {
  const base = `${input.app}-${input.ref.slice(0, 7)}-${digest.replace('sha256:', '').slice(0, 8)}`;
  const env = Object.entries(input.releaseEnv ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (env.length === 0) return base;
  // FNV-1a: deterministic and dependency-free, as workflow code must be.
  let hash = 0x811c9dc5;
  for (const char of JSON.stringify(env)) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${base}-${hash.toString(16).padStart(8, '0').slice(0, 6)}`;
}

function skipPending(status: ReleaseStatus): void {
  for (const s of Object.values(status.stages)) if (s.state === 'pending') s.state = 'skipped';
}

function validateInput(input: ReleaseInput): void {
  const problems: string[] = [];
  if (!input.app) problems.push('app is empty');
  if (!input.ref) problems.push('ref is empty');
  if (!input.sourceDir) problems.push('sourceDir is empty');
  const names = input.stages.map((s) => s.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) problems.push(`stage ${duplicate} appears twice`);
  for (const s of input.stages) if (s.steps.length === 0) problems.push(`stage ${s.name} has no steps`);
  if (input.delivery && !names.includes('build-production-image'))
    problems.push('environments need a build-production-image stage');
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message: `invalid release input (${problems.join('; ')}): start runs with \`tollgate run\`, which validates the config`,
      nonRetryable: true,
    });
  }
  log.info('release starting', { app: input.app, ref: input.ref, workflowId: workflowInfo().workflowId });
}

function failureDetails(error: unknown): StageFailureDetails | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && Array.isArray(cause.details)) {
    return cause.details[0] as StageFailureDetails | undefined;
  }
  return undefined;
}

function failureType(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
  return cause instanceof Error ? cause.message : String(error);
}

function describeFailure(error: unknown, status: ReleaseStatus): string {
  const failed = Object.entries(status.stages).find(([, s]) => s.state === 'failed');
  const where = failed
    ? `stage ${failed[0]} failed`
    : status.phase === 'rolled-back'
      ? 'release rolled back'
      : 'release failed';
  const type = failureType(error);
  const undone = status.compensations.filter((c) => !c.ok);
  const compensation =
    status.compensations.length === 0
      ? ''
      : undone.length === 0
        ? `; rolled back: ${status.compensations.map((c) => c.name).join(', ')}`
        : `; COMPENSATION FAILED: ${undone.map((c) => `${c.name} (${c.error ?? 'unknown error'})`).join(', ')}`;
  return `${where}${type ? ` [${type}]` : ''}: ${failureMessage(error)}${compensation}`;
}
