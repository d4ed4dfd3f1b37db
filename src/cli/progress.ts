/** Turns successive status queries into changes (phase, stage, gate, verification sample) and renders them as lines. */
import { maskSecretLike } from '../mask.js';
import { syntheticNote } from '../workflows/ui.js';
import type { CanaryProgress, GateStatus, ReleaseStatus, StageStatus, VerificationSample } from '../types.js';

/** Something that changed between two status queries. */
export type Change =
  | { kind: 'phase'; phase: ReleaseStatus['phase'] }
  | { kind: 'stage'; stage: string; status: StageStatus }
  | { kind: 'gate'; environment: string; gate: GateStatus }
  | { kind: 'sample'; environment: string; sample: VerificationSample; baseline: boolean }
  | { kind: 'canary'; environment: string; canary: CanaryProgress };

/** The mark shown before a stage in each state. */
export const MARK: Record<StageStatus['state'], string> = {
  pending: '·',
  running: '▶',
  succeeded: '✓',
  failed: '✗',
  skipped: '-',
  compensated: '↺',
};

/** Remembers what it has seen and returns only what changed since the last call. */
export class ChangeTracker {
  private readonly seen = new Map<string, string>();
  private phase = '';
  private readonly gates = new Map<string, string>();
  private readonly baselines = new Map<string, string>();
  private readonly samples = new Map<string, number>();
  private readonly canaries = new Map<string, string>();

  /** What changed since the last call (everything not pending, the first time). */
  changes(status: ReleaseStatus): Change[] {
    const changes: Change[] = [];
    if (status.phase !== this.phase) {
      this.phase = status.phase;
      changes.push({ kind: 'phase', phase: status.phase });
    }
    for (const [stage, s] of Object.entries(status.stages)) {
      const key = `${s.state}/${s.attempts}`;
      if (this.seen.get(stage) === key || s.state === 'pending') continue;
      this.seen.set(stage, key);
      changes.push({ kind: 'stage', stage, status: s });
    }
    for (const [environment, progress] of Object.entries(status.environments)) {
      const gate = progress.gate;
      if (gate && `${gate.state}/${gate.decidedBy ?? ''}` !== this.gates.get(environment)) {
        this.gates.set(environment, `${gate.state}/${gate.decidedBy ?? ''}`);
        changes.push({ kind: 'gate', environment, gate });
      }
      const window = progress.verification;
      if (window?.baseline && window.baseline.at !== this.baselines.get(environment)) {
        this.baselines.set(environment, window.baseline.at);
        changes.push({ kind: 'sample', environment, sample: window.baseline, baseline: true });
      }
      const shown = this.samples.get(environment) ?? 0;
      for (const sample of window?.samples.slice(shown) ?? []) {
        changes.push({ kind: 'sample', environment, sample, baseline: false });
      }
      if (window) this.samples.set(environment, window.samples.length);
      // A canary shows when its step, state or verdict changes, not at every reading.
      const canary = progress.canary;
      const key =
        canary && `${canary.step}/${canary.state}/${canary.verdict?.outcome}/${canary.verdict?.reason}`;
      if (canary && key !== this.canaries.get(environment)) {
        this.canaries.set(environment, key!);
        changes.push({ kind: 'canary', environment, canary });
      }
    }
    return changes;
  }
}

/** Remembers what it has printed and returns only the new transitions, one line each. */
export class ProgressPrinter {
  private readonly tracker = new ChangeTracker();

  /** Lines describing what changed since the last call. */
  update(status: ReleaseStatus): string[] {
    return this.tracker.changes(status).map(formatChange);
  }
}

/** One compact line for a change. */
export function formatChange(change: Change): string {
  switch (change.kind) {
    case 'phase':
      return `  phase: ${change.phase}`;
    case 'stage':
      return `  ${MARK[change.status.state]} ${change.stage.padEnd(24)} ${describeStage(change.status)}`;
    case 'gate':
      return `  ⏸ ${`gate before ${change.environment}`.padEnd(24)} ${describeGate(change.gate)}`;
    case 'sample': {
      if (change.baseline) {
        // Measured before the switch, to compare with: it judges nothing (on a first release nothing is served yet).
        const { breach, ...measured } = change.sample;
        const before = breach ? ` — before the switch: ${breach.detail}` : '';
        return `  ~ ${`baseline ${change.environment}`.padEnd(24)} ${describeSample(measured)}${before}`;
      }
      return `  ${change.sample.breach ? '✗' : '~'} ${`verification ${change.environment}`.padEnd(24)} ${describeSample(change.sample)}`;
    }
    case 'canary':
      return `  ${change.canary.state === 'failed' ? '✗' : '~'} ${`canary ${change.environment}`.padEnd(24)} ${describeCanary(change.canary)}`;
  }
}

/** A canary's step, weight and latest verdict in one line; a first release says it has no baseline. */
export function describeCanary(canary: CanaryProgress): string {
  const at =
    canary.steps.length > 1
      ? `step ${canary.step + 1} of ${canary.steps.length} at ${canary.weight} %`
      : `${canary.weight} %`;
  const v = canary.verdict;
  const against = canary.stable ? '' : ' (no baseline: a first release, judged on absolute limits)';
  return `${canary.state}, ${at}${against}${v ? `: ${v.outcome} [${v.reason}] ${firstLine(v.detail)} (α ${v.alpha})` : ''}${syntheticNote(canary)}`;
}

/** A stage's state, duration, attempts and summary in a few words. */
export function describeStage(stage: StageStatus): string {
  const attempts = stage.attempts > 1 ? ` after ${stage.attempts} attempts` : '';
  if (stage.state === 'running')
    return stage.attempts > 1 ? `running (attempt ${stage.attempts})` : 'running';
  const what = `${stage.state}${took(stage) ? ` in ${took(stage)}` : ''}${attempts}`;
  return stage.summary ? `${what} — ${firstLine(stage.summary)}` : what;
}

/** The gate's state, who decided and until when it waits. */
export function describeGate(gate: GateStatus): string {
  if (gate.state === 'waiting') return `waiting for promote or rollback (until ${gate.timeoutAt})`;
  const by = gate.decidedBy ? ` by ${gate.decidedBy}` : '';
  return `${gate.state}${by}${gate.reason ? ` — ${firstLine(gate.reason)}` : ''}`;
}

/** A verification sample's signals: health, error rate, p95, revenue events, breach. */
export function describeSample(sample: VerificationSample): string {
  const parts = [
    sample.healthy ? 'healthy' : 'unhealthy',
    `errors ${(sample.errorRate * 100).toFixed(1)}% of ${sample.requests}`,
    `p95 ${sample.p95LatencyMs === null ? '-' : `${Math.round(sample.p95LatencyMs)}ms`}`,
    ...(sample.revenueEvents === null ? [] : [`revenue events ${sample.revenueEvents}`]),
  ];
  return `${parts.join(', ')}${sample.breach ? ` — breach: ${sample.breach.signal} (${sample.breach.detail})` : ''}`;
}

/** How long a stage took (or has been running, given `now`), e.g. `3.2s`; empty before it started. */
export function took(stage: StageStatus, now?: number): string {
  if (!stage.startedAt) return '';
  const end = stage.endedAt ? Date.parse(stage.endedAt) : now;
  return end === undefined ? '' : `${((end - Date.parse(stage.startedAt)) / 1000).toFixed(1)}s`;
}

/** The first line of `text`, at most 140 characters. */
export function firstLine(text: string, max = 140): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** An outcome (a RunOutcome) as a person reads it: `rolled-back` is `rolled back`; JSON keeps the hyphen. */
export function outcomeWords(outcome: string): string {
  if (outcome === 'rolled-back') return 'rolled back';
  if (outcome === 'waiting-at-gate') return 'waiting at the gate';
  return outcome;
}

/** The run a stage belongs to. */
export interface RunRef {
  workflowId: string;
  runId?: string;
}

/** Where a stage's full log is. */
export interface LogLocation {
  /** The path on the worker's machine, when the status says it. */
  onWorker?: string;
  /** The same as `$TOLLGATE_HOME/runs/<workflow>/<run>/<stage>.log`, wherever the worker's home is. */
  inHome: string;
}

/** Where `stage`'s log is: the worker's path (from the status) and its place under `$TOLLGATE_HOME`. */
export function logLocation(stage: string, status: StageStatus, run: RunRef): LogLocation {
  const marker = `/runs/${run.workflowId}/`;
  const at = status.logPath ? status.logPath.lastIndexOf(marker) : -1;
  const inHome =
    status.logPath && at >= 0
      ? `$TOLLGATE_HOME${status.logPath.slice(at)}`
      : `$TOLLGATE_HOME/runs/${run.workflowId}/${run.runId ? `${run.runId}/` : ''}${stage}.log`;
  return { ...(status.logPath ? { onWorker: status.logPath } : {}), inHome };
}

/** A failed stage's last lines of output (credential-looking values masked), at most `max`. */
export function tailLines(status: StageStatus, max = Infinity): string[] {
  const lines = (status.logTail ?? '').split(/\r?\n/).filter((line) => line.trim().length > 0);
  return lines.slice(Math.max(0, lines.length - max)).map((line) => maskSecretLike(line));
}

/** The line saying where a stage's full log is. */
export function describeLog(where: LogLocation): string {
  return where.onWorker
    ? `full log: ${where.onWorker} on the worker (${where.inHome})`
    : `full log: ${where.inHome} on the worker`;
}

/**
 * What explains a failed stage, below its line: its last lines of output and where the full log is.
 * Nothing for a step that has no log of its own (a deploy, a smoke test).
 */
export function describeFailure(stage: string, status: StageStatus, run: RunRef): string[] {
  if (!status.logTail && !status.logPath) return [];
  return [
    ...tailLines(status).map((line) => `    │ ${line}`),
    `    ${describeLog(logLocation(stage, status, run))}`,
  ];
}
