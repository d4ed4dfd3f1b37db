/**
 * Release metrics emitted from workflow code. The SDK's workflow `metricMeter` skips replays, so a
 * history replayed on another worker never counts a release twice; the worker's exporter serves them.
 */
import { metricMeter } from '@temporalio/workflow';
import { FailureType } from '../failures.js';
import { METRICS, type RollbackReason } from '../observability/metrics.js';
import type { DailyHealthReport, ReleaseResult } from '../types.js';

export type { RollbackReason } from '../observability/metrics.js';

/** Counts a finished release by app and outcome (call once, where the run ends). */
export function recordReleaseOutcome(app: string, outcome: ReleaseResult['outcome']): void {
  metricMeter
    .createCounter(METRICS.releases, undefined, 'Finished releases by outcome')
    .add(1, { app, outcome });
}

/**
 * Counts a rollback of deployed environments and, when every environment was restored, how long
 * that took: seconds of workflow time from the decision (the catch) until compensation ended.
 */
export function recordRollback(app: string, reason: RollbackReason, restoreSeconds?: number): void {
  metricMeter
    .createCounter(METRICS.rollbacks, undefined, 'Rollbacks of deployed environments by reason')
    .add(1, { app, reason });
  if (restoreSeconds !== undefined) {
    metricMeter
      .createHistogram(
        METRICS.timeToRestore,
        'float',
        's',
        'Seconds from the rollback decision until the environments serve the previous release',
      )
      .record(Math.max(0, restoreSeconds), { app, reason });
  }
}

/** Why a failed release's environments were rolled back, from what ended it. */
export function rollbackReason(ended: {
  cancelled: boolean;
  failureType: string | undefined;
  gateTimedOut: boolean;
}): RollbackReason {
  if (ended.cancelled) return 'cancelled';
  if (ended.failureType === FailureType.VerificationBreach) return 'verification-breach';
  if (ended.failureType === FailureType.RolledBack) return ended.gateTimedOut ? 'gate-timeout' : 'operator';
  return 'stage-failed';
}

/** Counts each daily health check by name and result. */
export function recordHealthReport(report: DailyHealthReport): void {
  const counter = metricMeter.createCounter(METRICS.healthChecks, undefined, 'Daily health checks by result');
  for (const check of report.checks) {
    const result = check.notChecked ? 'not-checked' : check.ok ? 'ok' : 'failed';
    counter.add(1, { app: report.app, check: check.name, result });
  }
}
