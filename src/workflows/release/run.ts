/**
 * One release run as an object: its status (the `status` query), search attributes and live
 * details, saga, notifications and audit trail, and how the run ends. The flow in pipeline.ts
 * drives it; nothing else holds run state.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  metricMeter,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { compensation, deliveryStep, STATUS_LOG_TAIL_LINES } from '../../constants.js';
import { scopeUntil } from '../../config/graph.js';
import { FailureType, messageOf } from '../../failures.js';
import { maskSecretLike } from '../../mask.js';
import { recordStageDuration, type StageOutcome } from '../../observability/metrics.js';
import type {
  ArtifactRef,
  AuditEntry,
  EnvironmentLink,
  ReleaseInput,
  ReleasePhase,
  ReleaseRef,
  ReleaseResult,
  ReleaseStatus,
  StageFailureDetails,
  StagePlan,
  StageResult,
  StageStatus,
} from '../../types.js';
import { statusQuery } from '../messages.js';
import { recordReleaseOutcome, recordRollback, rollbackReason } from '../metrics.js';
import { notifyInBackground, type NotificationDraft } from '../notify.js';
import { Saga } from '../saga.js';
import {
  compensationActivities,
  environmentActivities,
  runStageActivity,
  sourceActivities,
} from '../stages.js';
import { changedPairs, initialSearch, renderDetails, stageAttribute, type ReleaseSearch } from '../ui.js';
import { Gate, type GateHost } from './gate.js';

/** The state of one release run, and the bookkeeping every step of the flow shares. */
export class ReleaseRun implements GateHost {
  readonly status: ReleaseStatus;
  readonly saga = new Saga();
  readonly gate: Gate;
  /** The stages and links this run covers (`until` may stop it early). */
  readonly scope: { stages: StagePlan[]; environments: EnvironmentLink[] };
  private readonly search: ReleaseSearch;
  /** Notifications in flight; the run waits for them before it closes (they never throw). */
  private readonly notices: Promise<void>[] = [];
  /** Environments that served another release before this run: parked once the whole chain passed. */
  private readonly replaced: EnvironmentLink[] = [];
  /** Set when the commit could not be fetched or checked out (no stage ran). */
  private sourceFailed = false;

  /** Validates the input and registers the query and message handlers (before the first await). */
  constructor(readonly input: ReleaseInput) {
    this.scope = validated(input);
    const { commit, tree, repository, subdir, revision, dirty } = input.source;
    this.status = {
      schemaVersion: 2,
      app: input.app,
      source: { repository, commit, tree, subdir, revision, ...(dirty ? { dirty } : {}) },
      phase: 'starting',
      stages: {},
      environments: {},
      compensations: [],
      audit: [],
      ...(input.until ? { until: input.until } : {}),
    };
    for (const plan of input.stages) {
      this.status.stages[plan.name] = {
        state: this.scope.stages.includes(plan) ? 'pending' : 'skipped',
        attempts: 0,
      };
    }
    for (const link of input.environments) {
      const name = link.environment.name;
      this.status.environments[name] = {}; // every link, in chain order: readers take the last as production
      const state = this.scope.environments.includes(link) ? 'pending' : 'skipped';
      this.status.stages[deliveryStep.deploy(name)] = { state, attempts: 0 };
      if (link.canary) this.status.stages[deliveryStep.canary(name)] = { state, attempts: 0 };
      if (link.loadTest) this.status.stages[deliveryStep.loadTest(name)] = { state, attempts: 0 };
      if (link.smoke) this.status.stages[deliveryStep.smoke(name)] = { state, attempts: 0 };
    }
    setHandler(statusQuery, () => this.status);
    this.search = initialSearch(input);
    this.gate = new Gate(this);
    log.info('release starting', { app: input.app, commit, workflowId: workflowInfo().workflowId });
  }

  /**
   * The rollback brake: after `limit` automatic rollbacks of the app within the window, a release
   * that would deploy is refused before anything runs, until a person clears the lane.
   */
  async checkBrake(): Promise<void> {
    const brake = this.input.rollbackBrake;
    if (!brake || this.scope.environments.length === 0) return;
    const found = await compensationActivities('rollback brake').laneBrake({
      app: this.input.app,
      limit: brake.limit,
      windowMs: brake.windowMs,
      at: new Date().toISOString(),
    });
    if (!found.braked) return;
    const hours = Math.round(brake.windowMs / 3_600_000);
    const list = found.rollbacks
      .map((r) => `${r.at} ${r.releaseId ?? r.workflowId}${r.reasonCode ? ` [${r.reasonCode}]` : ''}`)
      .join('; ');
    throw ApplicationFailure.create({
      type: FailureType.LaneBraked,
      message: `the release lane of ${this.input.app} is braked: ${found.rollbacks.length} automatic rollbacks within ${hours} h (limit ${brake.limit}: ${list}); look into them, then clear the lane with \`tollgate lane unlock ${this.input.app} --by <name> --reason "..."\``,
      nonRetryable: true,
    });
  }

  /** Fetches the commit into the worker's mirror, checks it out for this run, claims the environments' ports. */
  async prepareSource(): Promise<void> {
    const { source, app, dependencies, runner } = this.input;
    try {
      const prepared = await sourceActivities(`check out ${source.commit.slice(0, 12)}`).prepareSource({
        app,
        source,
        dependencies,
        runner,
        environments: this.scope.environments.map((l) => l.environment),
      });
      this.status.source.tree = prepared.tree;
    } catch (error) {
      this.sourceFailed = true;
      throw error;
    }
    this.show({ tree: this.status.source.tree ?? '' });
  }

  /** Moves the run to `next` (and, in delivery, to the environment it works on). */
  phase(next: ReleasePhase, environment?: string): void {
    this.status.phase = next;
    if (environment) this.status.environment = environment;
    log.info('release phase', { phase: next, ...(environment ? { environment } : {}) });
    this.show();
  }

  /** Applies `change` to the search attributes (an upsert only for values that differ) and refreshes the details. */
  show(change: Partial<ReleaseSearch> = {}): void {
    Object.assign(this.search, change);
    this.search.environment = this.status.environment ?? '';
    this.search.stage = stageAttribute(this.status, this.search.stage);
    const updates = changedPairs(this.search, workflowInfo().typedSearchAttributes);
    if (updates.length > 0) upsertSearchAttributes(updates);
    // Not a command: the UI reads the details through a query, so updating them often costs no history.
    setCurrentDetails(
      renderDetails(this.status, this.search, {
        workflowId: workflowInfo().workflowId,
        links: this.input.environments,
      }),
    );
  }

  /** Runs `fn` as the status entry `name`, keeping it up to date; delivery steps are timed into the metrics here. */
  async track<T>(name: string, fn: () => Promise<T>, summarize: (result: T) => string): Promise<T> {
    const entry = (this.status.stages[name] ??= { state: 'pending', attempts: 0 });
    Object.assign(entry, { state: 'running', startedAt: new Date().toISOString() });
    this.show();
    const startedAt = Date.now();
    // Command stages record their attempts in the activity; the delivery steps are timed here.
    const commandStage = this.input.stages.some((s) => s.name === name);
    const timed = (outcome: StageOutcome): void => {
      if (!commandStage) {
        recordStageDuration(
          metricMeter,
          { app: this.input.app, stage: name, outcome },
          (Date.now() - startedAt) / 1000,
        );
      }
    };
    try {
      const result = await fn();
      timed('succeeded');
      const cached = (result as Partial<StageResult> | undefined)?.cached;
      Object.assign(entry, {
        state: 'succeeded',
        attempts: (result as Partial<StageResult> | undefined)?.attempt ?? 1,
        endedAt: new Date().toISOString(),
        summary: summarize(result),
        ...(cached ? { cached } : {}),
      });
      this.show();
      return result;
    } catch (error) {
      timed(isCancellation(error) ? 'cancelled' : 'failed');
      const details = failureDetails(error);
      Object.assign(entry, {
        state: isCancellation(error) ? 'skipped' : 'failed',
        attempts: details?.attempt ?? 1,
        endedAt: new Date().toISOString(),
        summary: messageOf(error),
        failureType: details?.type ?? failureType(error),
        ...failedLog(details),
      });
      this.show();
      throw error;
    }
  }

  /** Runs one command stage in the run's checkout (the artifact stage on the build queue, where there is one). */
  command(plan: StagePlan): Promise<StageResult> {
    const { app, source, runner, dependencies, heartbeatTimeoutMs, buildTaskQueue } = this.input;
    return this.track(
      plan.name,
      () =>
        runStageActivity(plan, {
          app,
          source: { ...source, tree: this.status.source.tree },
          runner,
          dependencies,
          ...(heartbeatTimeoutMs ? { heartbeatTimeoutMs } : {}),
          ...(plan.artifact && buildTaskQueue ? { taskQueue: buildTaskQueue } : {}),
          ...(this.input.noCache ? { cache: false } : {}),
        }),
      (result) => result.summary,
    );
  }

  /** The release the environments deploy; its undo discards the artifact. */
  built(artifact: ArtifactRef): ReleaseRef {
    this.status.artifact = artifact;
    this.saga.push(compensation.discardArtifact, () =>
      compensationActivities(compensation.discardArtifact).discardArtifact(artifact),
    );
    const release: ReleaseRef = {
      releaseId: releaseIdOf(this.input, artifact.digest),
      app: this.input.app,
      ref: this.input.source.commit,
      artifact,
    };
    this.status.releaseId = release.releaseId;
    return release;
  }

  /** Remembers an environment that served `previous` before: it is parked once the whole chain passed. */
  replacedIn(link: EnvironmentLink): void {
    this.replaced.push(link);
  }

  /** The chain passed: the releases it replaced stop (kept for `tollgate rollback --env`), newest environment first. */
  async settle(): Promise<void> {
    for (const link of [...this.replaced].reverse()) {
      await environmentActivities('retire replaced releases').settleEnvironment({
        environment: link.environment,
      });
    }
  }

  /** Adds an entry to the audit trail; the run fills in who it is about. */
  audit(
    entry: Pick<AuditEntry, 'action' | 'by' | 'reason' | 'outcome' | 'reasonCode'> & { environment?: string },
  ): void {
    const { commit, tree } = this.status.source;
    this.status.audit.push({
      at: new Date().toISOString(),
      workflowId: workflowInfo().workflowId,
      app: this.input.app,
      ...entry,
      ...(this.status.releaseId ? { releaseId: this.status.releaseId } : {}),
      ...(this.status.artifact ? { digest: this.status.artifact.digest } : {}),
      commit,
      ...(tree ? { tree } : {}),
    });
  }

  /** Starts a notification; the run waits for it before it closes. */
  notify(draft: NotificationDraft): void {
    this.notices.push(notifyInBackground(this.input.notifications, draft));
  }

  /** The run succeeded: every stage and link in its scope passed. */
  async succeeded(): Promise<ReleaseResult> {
    skipPending(this.status);
    this.phase('succeeded');
    this.ended('succeeded');
    return this.finish('succeeded');
  }

  /**
   * The run failed, was rolled back or was cancelled: compensations run newest first, the outcome
   * is recorded, and the error to end the workflow with is returned (a cancellation as itself).
   */
  async failed(error: unknown): Promise<unknown> {
    const decidedAt = Date.now();
    this.phase('compensating');
    this.status.compensations = await this.saga.compensate();
    // A rollback in the metrics is an undo of a deployed environment; its time to restore counts to the last undo.
    const restores = this.status.compensations.filter((c) => compensation.isRestore(c.name));
    const type = failureType(error);
    if (restores.length > 0) {
      const reason = rollbackReason({
        cancelled: isCancellation(error),
        failureType: type,
        gateTimedOut: Object.values(this.status.environments).some((e) => e.gate?.state === 'timed-out'),
      });
      recordRollback(
        this.input.app,
        reason,
        restores.every((c) => c.ok) ? (Date.now() - decidedAt) / 1000 : undefined,
      );
    }
    // A rollback (by an operator or a verification breach) is an outcome of its own, but still not a release.
    const rolledBack = type === FailureType.RolledBack || type === FailureType.VerificationBreach;
    if (this.status.releaseId && (rolledBack || restores.length > 0)) {
      // Who decided: the last accepted rollback, gate timeout or automatic rollback; else the failure itself.
      const decided = [...this.status.audit]
        .reverse()
        .find(
          (e) => e.outcome === 'accepted' && ['rollback', 'gate-timeout', 'auto-rollback'].includes(e.action),
        );
      this.notify({
        kind: 'rolled-back',
        app: this.input.app,
        releaseId: this.status.releaseId,
        ref: this.input.source.commit,
        ...(this.status.environment ? { environment: this.status.environment } : {}),
        by: decided?.by ?? 'tollgate',
        reason: isCancellation(error) ? 'the run was cancelled' : messageOf(error),
      });
    }
    skipPending(this.status);
    if (isCancellation(error)) {
      this.phase('cancelled');
      this.ended('cancelled');
      await this.finish('cancelled');
      return error;
    }
    const outcome = rolledBack ? 'rolled-back' : 'failed';
    this.phase(outcome);
    this.status.failure = this.describeFailure(error);
    this.ended(outcome);
    await this.finish(outcome);
    return ApplicationFailure.create({
      type: type ?? FailureType.StepFailed,
      message: this.status.failure,
      nonRetryable: true,
      details: [this.status],
    });
  }

  /** The outcome in the search attributes; on a failure TollgateStage names the stage that failed. */
  private ended(outcome: ReleaseResult['outcome']): void {
    const failed = Object.entries(this.status.stages).find(([, s]) => s.state === 'failed')?.[0];
    this.show({ outcome, ...(failed ? { stage: failed } : {}) });
  }

  /** Records the outcome in the audit trail (even when cancelled), removes the checkout, waits for handlers and notices. */
  private async finish(outcome: ReleaseResult['outcome']): Promise<ReleaseResult> {
    recordReleaseOutcome(this.input.app, outcome);
    this.audit({
      action: 'release',
      by: this.input.requestedBy,
      reason: this.status.failure ?? `${this.input.source.commit} released`,
      outcome,
    });
    // Also after cancellation: the audit record must not be lost, and the checkout must go.
    await CancellationScope.nonCancellable(async () => {
      // Handlers first: a decision still being checked may add its refusal to the trail.
      await condition(allHandlersFinished);
      await compensationActivities('audit trail').recordAudit(this.status.audit);
      await sourceActivities('remove checkout')
        .closeWorkspace({ app: this.input.app })
        .catch((error: unknown) =>
          log.warn("could not remove the run's checkout", { error: messageOf(error) }),
        );
      await Promise.all(this.notices);
    });
    return { outcome, status: this.status };
  }

  private describeFailure(error: unknown): string {
    const failed = Object.entries(this.status.stages).find(([, s]) => s.state === 'failed');
    const where = failed
      ? `stage ${failed[0]} failed`
      : this.sourceFailed
        ? 'the commit could not be checked out'
        : this.status.phase === 'rolled-back'
          ? 'release rolled back'
          : 'release failed';
    const type = failureType(error);
    const undone = this.status.compensations.filter((c) => !c.ok);
    const compensations =
      this.status.compensations.length === 0
        ? ''
        : undone.length === 0
          ? `; rolled back: ${this.status.compensations.map((c) => c.name).join(', ')}`
          : `; COMPENSATION FAILED: ${undone.map((c) => `${c.name} (${c.error ?? 'unknown error'})`).join(', ')}`;
    return `${where}${type ? ` [${type}]` : ''}: ${messageOf(error)}${compensations}`;
  }
}

/** The failure that says the run was rolled back (by a person or the gate's timeout). */
export function rolledBack(how: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.RolledBack,
    message: `rolled back ${how}`,
    nonRetryable: true,
  });
}

/**
 * `<app>-<sha7>-<digest8>`, `-dirty` after the SHA for a snapshot of a working tree, plus a hash of
 * the release env when there is one: the same build with other flags is another release (deploys
 * of the same id are idempotent, so it must differ).
 */
export function releaseIdOf(
  input: Pick<ReleaseInput, 'app' | 'source' | 'releaseEnv'>,
  digest: string,
): string {
  const commit = `${input.source.commit.slice(0, 7)}${input.source.dirty ? '-dirty' : ''}`;
  const base = `${input.app}-${commit}-${digest.replace('sha256:', '').slice(0, 8)}`;
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

/** The input's scope, or a non-retryable InvalidConfig naming every problem (`tollgate run` validates first). */
function validated(input: ReleaseInput): { stages: StagePlan[]; environments: EnvironmentLink[] } {
  const problems: string[] = [];
  if (!input.app) problems.push('app is empty');
  if (!/^[0-9a-f]{40,64}$/.test(input.source?.commit ?? ''))
    problems.push('source.commit is not a full commit SHA');
  const names = input.stages.map((s) => s.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) problems.push(`stage ${duplicate} appears twice`);
  for (const s of input.stages) {
    if (s.steps.length === 0) problems.push(`stage ${s.name} has no steps`);
    for (const need of s.needs)
      if (!names.includes(need)) problems.push(`stage ${s.name} needs unknown stage ${need}`);
  }
  const artifacts = input.stages.filter((s) => s.artifact);
  if (input.environments.length > 0 && artifacts.length !== 1)
    problems.push(`environments need exactly one stage with an artifact (found ${artifacts.length})`);
  const scope = scopeUntil(
    input.stages,
    input.environments.map((l) => l.environment.name),
    input.until,
  );
  if (!scope) problems.push(`until names no stage or environment: ${input.until}`);
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message: `invalid release input (${problems.join('; ')}): start runs with \`tollgate run\`, which validates the config`,
      nonRetryable: true,
    });
  }
  return { stages: scope!.stages, environments: input.environments.slice(0, scope!.links) };
}

function failureDetails(error: unknown): StageFailureDetails | undefined {
  const cause = error instanceof Error && error.cause instanceof ApplicationFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && Array.isArray(cause.details)) {
    return cause.details[0] as StageFailureDetails | undefined;
  }
  return undefined;
}

/** A failed stage's last lines and log path for its status entry: bounded, credential-looking values masked. */
function failedLog(details: StageFailureDetails | undefined): Pick<StageStatus, 'logTail' | 'logPath'> {
  const logPath = typeof details?.logPath === 'string' && details.logPath ? { logPath: details.logPath } : {};
  if (typeof details?.logTail !== 'string' || !details.logTail.trim()) return logPath;
  const lines = details.logTail.replace(/\s+$/, '').split('\n').slice(-STATUS_LOG_TAIL_LINES);
  return { logTail: maskSecretLike(lines.join('\n')), ...logPath };
}

/** The failure type of an error, or of the activity failure it wraps. */
export function failureType(error: unknown): string | undefined {
  const cause = error instanceof Error && error.cause instanceof ApplicationFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}
