/**
 * Pipeline metrics from release runs: the four DORA keys, success rate, per-stage timings and the
 * summary figures. Pure: runs in, one metrics object out; `tollgate stats` gathers the runs.
 * "Production" is the last environment of each run's chain.
 */
import { compensation, deliveryStep } from '../constants.js';
import { FINAL_PHASES, type ReleasePhase, type ReleaseStatus } from '../types.js';

/** One release run as the stats see it. */
export interface RunRecord {
  workflowId: string;
  startedAt: string;
  /** Absent while the run is still going. */
  closedAt?: string;
  status: ReleaseStatus;
  /** Commit time of the released ref (ISO); absent when the ref is not a resolvable git revision. */
  commitTime?: string;
}

/** An environment rollback (`rollback --env`) after its release's run had finished. */
export interface EnvironmentRollbackRecord {
  workflowId: string;
  environment: string;
  /** The release it reverted. */
  from: string | null;
  requestedAt: string;
  closedAt: string | null;
  /** Only `rolled-back` ones moved traffic; `unchanged`, `failed` and `running` ones count for nothing. */
  outcome: string;
}

/** The time range the runs were started in: `from` inclusive, `to` exclusive. */
export interface StatsWindow {
  from: string;
  to: string;
}

/** A count over a count; `rate` is null when nothing was counted. */
export interface Ratio {
  numerator: number;
  denominator: number;
  rate: number | null;
}

/** Summary of a set of durations in milliseconds; the figures are null when `count` is 0. */
export interface Distribution {
  count: number;
  meanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Timings and outcomes of one stage over the finished runs. */
export interface StageMetrics extends Distribution {
  stage: string;
  succeeded: number;
  failed: number;
  skipped: number;
}

/** Final outcomes of the runs started on one UTC day. */
export interface DailyOutcomes {
  date: string;
  succeeded: number;
  failed: number;
  rolledBack: number;
  cancelled: number;
}

/** Everything `tollgate stats` reports. */
export interface PipelineMetrics {
  window: StatsWindow & { days: number };
  app: string | null;
  runs: {
    total: number;
    finished: number;
    running: number;
    succeeded: number;
    failed: number;
    rolledBack: number;
    cancelled: number;
  };
  successRate: Ratio;
  deploymentFrequency: { deployments: number; days: number; perDay: number | null };
  leadTime: Distribution & { fromRunStart: string[] };
  /** Causes: a verification breach, an operator's rollback during the run, a later `rollback --env` (reverted), other. */
  changeFailureRate: Ratio & { breach: number; operator: number; reverted: number; other: number };
  timeToRestore: Distribution & { notRestored: string[]; unmeasured: string[] };
  pipelineTime: Distribution;
  stages: StageMetrics[];
  daily: DailyOutcomes[];
  /** The three headline figures in one place: success rate, average pipeline time, deployment frequency. */
  summary: {
    successRate: number | null;
    averagePipelineTimeMs: number | null;
    deploymentFrequencyPerDay: number | null;
  };
  notes: string[];
}

const DAY_MS = 86_400_000;

/** True when the run finished with a final phase. */
export function isFinished(run: RunRecord): boolean {
  return run.closedAt !== undefined && (FINAL_PHASES as readonly ReleasePhase[]).includes(run.status.phase);
}

/** The last environment of the run's chain (its production), when it has environments (in chain order). */
export function lastEnvironment(status: ReleaseStatus): string | undefined {
  return Object.keys(status.environments).at(-1);
}

/** True when the run switched its last environment's traffic to its release. */
export function reachedProduction(status: ReleaseStatus): boolean {
  const last = lastEnvironment(status);
  return last !== undefined && status.stages[deliveryStep.deploy(last)]?.state === 'succeeded';
}

/** A production deployment: the run succeeded and its release serves production. */
export function isProductionDeployment(status: ReleaseStatus): boolean {
  return status.phase === 'succeeded' && reachedProduction(status);
}

/** Why production was undone after the switch: a verification breach, an operator, or anything else. */
export function productionFailureCause(status: ReleaseStatus): 'breach' | 'operator' | 'other' {
  if (status.phase === 'rolled-back') {
    const breached =
      status.audit.some((e) => e.action === 'auto-rollback') ||
      Object.values(status.environments).some((e) => (e.verification?.samples ?? []).some((s) => s.breach));
    if (breached) return 'breach';
    if (status.audit.some((e) => e.action === 'rollback' && e.outcome === 'accepted')) return 'operator';
  }
  return 'other';
}

/** The first `rollback --env` of the run's production that moved traffic off its release, after it deployed. */
function revertOf(
  run: RunRecord,
  rollbacks: readonly EnvironmentRollbackRecord[],
): EnvironmentRollbackRecord | undefined {
  const production = lastEnvironment(run.status);
  const releaseId = run.status.releaseId;
  const deployed = ms(production ? run.status.stages[deliveryStep.deploy(production)]?.endedAt : undefined);
  if (!production || !releaseId) return undefined;
  return rollbacks
    .filter(
      (r) =>
        r.outcome === 'rolled-back' &&
        r.environment === production &&
        r.from === releaseId &&
        r.closedAt !== null &&
        !(ms(r.requestedAt) < deployed),
    )
    .sort((a, b) => ms(a.requestedAt) - ms(b.requestedAt))[0];
}

/** Median: the middle value, or the mean of the two middle values, rounded to whole ms. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return Math.round(sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** Nearest-rank percentile: the ⌈p/100 · n⌉-th smallest value. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Count, mean (rounded to whole ms), median and p95 of durations in ms. */
export function distribution(values: readonly number[]): Distribution {
  return {
    count: values.length,
    meanMs: values.length === 0 ? null : Math.round(values.reduce((a, b) => a + b, 0) / values.length),
    p50Ms: median(values),
    p95Ms: percentile(values, 95),
  };
}

function ratio(numerator: number, denominator: number): Ratio {
  return { numerator, denominator, rate: denominator === 0 ? null : numerator / denominator };
}

const ms = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso));

/** The moment production started to suffer: the breaching sample, else the rollback decision. */
function breachMoment(status: ReleaseStatus, cause: 'breach' | 'operator'): number {
  if (cause === 'breach') {
    const last = lastEnvironment(status);
    const sample = (last ? (status.environments[last]?.verification?.samples ?? []) : []).find(
      (s) => s.breach,
    );
    if (sample) return ms(sample.at);
    return ms(status.audit.find((e) => e.action === 'auto-rollback')?.at);
  }
  return ms(status.audit.find((e) => e.action === 'rollback' && e.outcome === 'accepted')?.at);
}

/** When production was back on the previous release: the run's final audit entry, written after the compensations. */
function restoredMoment(run: RunRecord): number {
  const final = [...run.status.audit].reverse().find((e) => e.action === 'release');
  return ms(final?.at ?? run.closedAt);
}

/** Computes every metric over the runs started in `window` (callers pass only those). */
export function computeMetrics(
  records: readonly RunRecord[],
  window: StatsWindow,
  app: string | null = null,
  rollbacks: readonly EnvironmentRollbackRecord[] = [],
): PipelineMetrics {
  const days = (ms(window.to) - ms(window.from)) / DAY_MS;
  const finished = records.filter(isFinished);
  const count = (phase: ReleasePhase): number => finished.filter((r) => r.status.phase === phase).length;
  const notes: string[] = [];

  const deployments = finished.filter((r) => isProductionDeployment(r.status));
  const fromRunStart: string[] = [];
  const leadTimes = deployments.map((r) => {
    const committed = ms(r.commitTime);
    if (Number.isNaN(committed)) fromRunStart.push(r.workflowId);
    return (
      ms(r.status.stages[deliveryStep.deploy(lastEnvironment(r.status)!)]!.endedAt) -
      (Number.isNaN(committed) ? ms(r.startedAt) : committed)
    );
  });
  if (fromRunStart.length > 0) {
    notes.push(
      `lead time: ${fromRunStart.length} of ${deployments.length} deployments have no resolvable git commit; their run's start time was used instead (${fromRunStart.join(', ')})`,
    );
  }

  const reached = finished.filter((r) => reachedProduction(r.status));
  const failedInProduction = reached.filter((r) => r.status.phase !== 'succeeded');
  const causes = { breach: 0, operator: 0, reverted: 0, other: 0 };
  const restoreTimes: number[] = [];
  const notRestored: string[] = [];
  const unmeasured: string[] = [];
  for (const run of failedInProduction) {
    const cause = productionFailureCause(run.status);
    causes[cause] += 1;
    const last = lastEnvironment(run.status);
    const switchBack = run.status.compensations.find((c) => compensation.environmentOf(c.name) === last);
    if (!switchBack?.ok) {
      notRestored.push(run.workflowId);
      continue;
    }
    const took = cause === 'other' ? NaN : restoredMoment(run) - breachMoment(run.status, cause);
    if (Number.isNaN(took)) unmeasured.push(run.workflowId);
    else restoreTimes.push(took);
  }
  // A release that succeeded and was later reverted by `rollback --env` failed in production too:
  // restored once that rollback finished, timed from the operator's request (when the failure was known).
  const reverted = deployments.flatMap((run) => {
    const revert = revertOf(run, rollbacks);
    return revert ? [{ run, revert }] : [];
  });
  for (const { revert } of reverted) {
    causes.reverted += 1;
    restoreTimes.push(ms(revert.closedAt ?? undefined) - ms(revert.requestedAt));
  }
  if (notRestored.length > 0) {
    notes.push(
      `time to restore: production was NOT switched back for ${notRestored.join(', ')} (the compensation failed)`,
    );
  }
  if (unmeasured.length > 0) {
    notes.push(
      `time to restore: no breach or rollback decision recorded for ${unmeasured.join(', ')}; not measured`,
    );
  }

  const pipelineTime = distribution(finished.map((r) => ms(r.closedAt) - ms(r.startedAt)));
  const successRate = ratio(count('succeeded'), finished.length);
  const perDay = days > 0 ? deployments.length / days : null;
  const running = records.length - finished.length;
  if (running > 0) notes.push(`${running} run(s) still in flight are not counted`);

  return {
    window: { ...window, days },
    app,
    runs: {
      total: records.length,
      finished: finished.length,
      running,
      succeeded: count('succeeded'),
      failed: count('failed'),
      rolledBack: count('rolled-back'),
      cancelled: count('cancelled'),
    },
    successRate,
    deploymentFrequency: { deployments: deployments.length, days, perDay },
    leadTime: { ...distribution(leadTimes), fromRunStart },
    changeFailureRate: { ...ratio(failedInProduction.length + reverted.length, reached.length), ...causes },
    timeToRestore: { ...distribution(restoreTimes), notRestored, unmeasured },
    pipelineTime,
    stages: stageMetrics(finished),
    daily: dailyOutcomes(finished, window),
    summary: {
      successRate: successRate.rate,
      averagePipelineTimeMs: pipelineTime.meanMs,
      deploymentFrequencyPerDay: perDay,
    },
    notes,
  };
}

/** Per stage, in the order the runs list them, for the stages that appear in any finished run. */
function stageMetrics(finished: readonly RunRecord[]): StageMetrics[] {
  const result: StageMetrics[] = [];
  const names = [...new Set(finished.flatMap((r) => Object.keys(r.status.stages)))];
  for (const stage of names) {
    const entries = finished.flatMap((r) => {
      const entry = r.status.stages[stage];
      return entry ? [entry] : [];
    });
    if (entries.length === 0) continue;
    const durations = entries
      .filter((e) => (e.state === 'succeeded' || e.state === 'failed') && e.startedAt && e.endedAt)
      .map((e) => ms(e.endedAt) - ms(e.startedAt));
    result.push({
      stage,
      succeeded: entries.filter((e) => e.state === 'succeeded').length,
      failed: entries.filter((e) => e.state === 'failed').length,
      skipped: entries.filter((e) => e.state === 'skipped').length,
      ...distribution(durations),
    });
  }
  return result;
}

/** One entry per UTC day of the window, counting runs by the day they started. */
function dailyOutcomes(finished: readonly RunRecord[], window: StatsWindow): DailyOutcomes[] {
  const first = Math.floor(ms(window.from) / DAY_MS);
  const last = Math.floor((ms(window.to) - 1) / DAY_MS);
  const days: DailyOutcomes[] = [];
  for (let day = first; day <= last; day++) {
    days.push({
      date: new Date(day * DAY_MS).toISOString().slice(0, 10),
      succeeded: 0,
      failed: 0,
      rolledBack: 0,
      cancelled: 0,
    });
  }
  const key = {
    succeeded: 'succeeded',
    failed: 'failed',
    'rolled-back': 'rolledBack',
    cancelled: 'cancelled',
  } as const;
  for (const run of finished) {
    const entry = days[Math.floor(ms(run.startedAt) / DAY_MS) - first];
    const phase = run.status.phase as keyof typeof key;
    if (entry) entry[key[phase]] += 1;
  }
  return days;
}
