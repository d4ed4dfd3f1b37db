/**
 * Tollgate's own metrics: names, label values and histogram buckets, declared once. Pure data and
 * type imports only, so workflow code (src/workflows/metrics.ts) imports it as safely as activities do.
 */
import type { MetricMeter } from '@temporalio/common';

/** Metric names as /metrics shows them (custom metrics get no `temporal_` prefix); every one has an `app` label. */
export const METRICS = {
  /** Histogram: one command stage attempt, by `app`, `stage` and `outcome`. */
  stageDuration: 'tollgate_stage_duration_seconds',
  /** Counter: finished releases, by `app` and `outcome`. */
  releases: 'tollgate_releases_total',
  /** Counter: releases whose environments were rolled back, by `app` and `reason`. */
  rollbacks: 'tollgate_rollbacks_total',
  /** Histogram: seconds from the rollback decision until the environments serve the previous release, by `app` and `reason`. */
  timeToRestore: 'tollgate_time_to_restore_seconds',
  /** Counter: daily health checks, by `app`, `check` and `result` (ok | failed | not-checked). */
  healthChecks: 'tollgate_health_checks_total',
} as const;

/** How one stage attempt ended. */
export type StageOutcome = 'succeeded' | 'failed' | 'cancelled';

/** Why environments were rolled back. */
export type RollbackReason =
  /** The verification window saw an error rate or latency breach. */
  | 'verification-breach'
  /** Someone asked for it (promotion gate, verification window, `tollgate rollback --env`). */
  | 'operator'
  /** Nobody decided at the promotion gate and the config says roll back. */
  | 'gate-timeout'
  /** A stage failed after an environment had been deployed (a staging smoke test, the production switch). */
  | 'stage-failed'
  /** The run was cancelled after an environment had been deployed. */
  | 'cancelled';

/**
 * Bucket boundaries (seconds) for Tollgate's histograms; the exporter's defaults are meant for
 * milliseconds. Stages take seconds to tens of minutes; a restore, seconds to minutes.
 */
export const METRIC_BUCKETS: Record<string, number[]> = {
  [METRICS.stageDuration]: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  [METRICS.timeToRestore]: [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
};

/** Records one stage attempt on the activity's metric meter (which adds namespace, task queue and activity type). */
export function recordStageDuration(
  meter: MetricMeter,
  labels: { app: string; stage: string; outcome: StageOutcome },
  seconds: number,
): void {
  meter
    .createHistogram(
      METRICS.stageDuration,
      'float',
      's',
      'Duration of a pipeline stage: one attempt of a command stage, the whole of a delivery stage',
    )
    .record(Math.max(0, seconds), labels);
}
