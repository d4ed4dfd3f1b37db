/**
 * `tollgate stats` without a server: the metrics from hand-made runs (schema 2 statuses, and schema 1
 * ones as toSchema2 reads them), the HTML report, the window and git.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gitCommitTime, statsWindow } from '../../src/commands/stats.js';
import { ExitError } from '../../src/cli/exit.js';
import { deliveryStep } from '../../src/constants.js';
import { escapeXml, renderHtml } from '../../src/stats/html.js';
import {
  computeMetrics,
  lastEnvironment,
  type EnvironmentRollbackRecord,
  type RunRecord,
  type StatsWindow,
} from '../../src/stats/metrics.js';
import type {
  AuditEntry,
  CompensationReport,
  EnvironmentProgress,
  ReleasePhase,
  ReleaseStatus,
  StageState,
  StageStatus,
  VerificationSample,
} from '../../src/types.js';
import { toSchema2 } from '../../src/workflows/legacy/status.js';
import type { ReleaseStatus as ReleaseStatusV1 } from '../../src/workflows/legacy/types.js';

const WINDOW: StatsWindow = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-08T00:00:00.000Z' };
const S = 1000;

const at = (start: string, offsetS: number): string =>
  new Date(Date.parse(start) + offsetS * S).toISOString();

/** The sample app's stages and its staging → production chain, as groups that start together. */
const ORDER: string[][] = [
  ['quick-health-check'],
  ['test-suite'],
  ['test-stripe-integration', 'test-rag-engine', 'verify-revenue-metrics'],
  ['build-production-image'],
  ['deploy-to-staging'],
  ['smoke-test-staging'],
  ['deploy-to-production'],
];

/** Stages laid out from `start`: each [duration in s, state]; the revenue gates run side by side. */
function stages(
  start: string,
  spec: Record<string, [number, StageState] | StageState>,
  productionAtS?: number,
): ReleaseStatus['stages'] {
  const out: ReleaseStatus['stages'] = {};
  let clock = 0;
  for (const group of ORDER) {
    let longest = 0;
    if (group[0] === 'deploy-to-production' && productionAtS !== undefined) clock = productionAtS;
    for (const name of group) {
      const entry = spec[name];
      if (entry === undefined) continue;
      if (typeof entry === 'string') {
        out[name] = { state: entry, attempts: 0 };
        continue;
      }
      const [duration, state] = entry;
      const status: StageStatus = {
        state,
        attempts: 1,
        startedAt: at(start, clock),
        endedAt: at(start, clock + duration),
      };
      out[name] = status;
      longest = Math.max(longest, duration);
    }
    clock += longest;
  }
  return out;
}

/** A full delivery: every stage ran with these durations (s) and succeeded. */
function delivered(
  start: string,
  [qhc, tests, gates, build, staging, smoke, production]: number[],
  productionAtS: number,
): ReleaseStatus['stages'] {
  return stages(
    start,
    {
      'quick-health-check': [qhc!, 'succeeded'],
      'test-suite': [tests!, 'succeeded'],
      'test-stripe-integration': [gates!, 'succeeded'],
      'test-rag-engine': [gates!, 'succeeded'],
      'verify-revenue-metrics': [gates!, 'succeeded'],
      'build-production-image': [build!, 'succeeded'],
      'deploy-to-staging': [staging!, 'succeeded'],
      'smoke-test-staging': [smoke!, 'succeeded'],
      'deploy-to-production': [production!, 'succeeded'],
    },
    productionAtS,
  );
}

const DELIVERY_SKIPPED = {
  'test-stripe-integration': 'skipped',
  'test-rag-engine': 'skipped',
  'verify-revenue-metrics': 'skipped',
  'build-production-image': 'skipped',
  'deploy-to-staging': 'skipped',
  'smoke-test-staging': 'skipped',
  'deploy-to-production': 'skipped',
} as const;

function audit(
  at: string,
  action: AuditEntry['action'],
  by: string,
  outcome: AuditEntry['outcome'],
): AuditEntry {
  return { at, workflowId: 'w', app: 'shop', action, by, reason: '', outcome };
}

const sample = (at: string, extra: Partial<VerificationSample> = {}): VerificationSample => ({
  at,
  healthy: true,
  requests: 10,
  errorRate: 0,
  p95LatencyMs: 5,
  revenueEvents: 1,
  ...extra,
});

/** A schema 2 status of the chain staging → production (`production` fills in that link). */
function status(
  phase: ReleasePhase,
  extra: Partial<ReleaseStatus> = {},
  production: EnvironmentProgress = {},
): ReleaseStatus {
  return {
    schemaVersion: 2,
    app: 'shop',
    source: {
      repository: '/srv/git/shop',
      commit: 'abc1234'.padEnd(40, '0'),
      tree: null,
      subdir: '',
      revision: 'main',
    },
    phase,
    stages: {},
    environments: { staging: {}, production },
    compensations: [],
    audit: [],
    ...extra,
  };
}

/** The undos of a rollback after production switched: production first, as the saga runs them. */
const RESTORED: CompensationReport[] = [
  { name: 'restore production', ok: true },
  { name: 'restore staging', ok: true },
  { name: 'discard artifact', ok: true },
];

/** The same undos as a schema 1 run (Tollgate 0.1) recorded them. */
const SWITCHED_BACK_V1: CompensationReport[] = [
  { name: 'switch production back', ok: true },
  { name: 'restore staging', ok: true },
  { name: 'discard artifact', ok: true },
];

/**
 * Seven runs: two deployments, a test failure, a breach, an operator rollback, a cancel, one in
 * flight. The breach is a schema 1 run (top-level verification, "switch production back"), read
 * through toSchema2 as `stats` reads it.
 */
function fixtureRuns(): RunRecord[] {
  const a = '2025-03-02T10:00:00.000Z';
  const b = '2025-03-03T12:00:00.000Z';
  const c = '2025-03-03T14:00:00.000Z';
  const d = '2025-03-05T09:00:00.000Z';
  const e = '2025-03-06T16:00:00.000Z';
  const f = '2025-03-07T08:00:00.000Z';
  const breachV1: ReleaseStatusV1 = {
    app: 'shop',
    ref: 'abc1234',
    phase: 'rolled-back',
    stages: delivered(d, [10, 70, 30, 60, 20, 10, 60], 600),
    verification: {
      samples: [
        sample('2025-03-05T09:12:00.000Z'),
        sample('2025-03-05T09:13:00.000Z', {
          errorRate: 0.5,
          breach: { signal: 'error-rate', detail: '50 % > 5 %' },
        }),
      ],
    },
    compensations: SWITCHED_BACK_V1,
    audit: [
      audit('2025-03-05T09:09:00.000Z', 'promote', 'alice', 'accepted'),
      audit('2025-03-05T09:13:01.000Z', 'auto-rollback', 'tollgate', 'accepted'),
      audit('2025-03-05T09:13:45.000Z', 'release', 'ci', 'rolled-back'),
    ],
  };
  return [
    {
      // Production at 10:05:00–10:05:30; committed at 08:00 → lead time 2h 05m 30s.
      workflowId: 'succeeded-a',
      startedAt: a,
      closedAt: '2025-03-02T10:10:00.000Z',
      commitTime: '2025-03-02T08:00:00.000Z',
      status: status('succeeded', { stages: delivered(a, [10, 60, 30, 60, 20, 10, 30], 300) }),
    },
    {
      // No commit time: lead time from the run's start (12:00) to production's end (12:11).
      workflowId: 'succeeded-b',
      startedAt: b,
      closedAt: '2025-03-03T12:20:00.000Z',
      status: status('succeeded', { stages: delivered(b, [20, 90, 40, 80, 30, 20, 60], 600) }),
    },
    {
      workflowId: 'failed-tests',
      startedAt: c,
      closedAt: '2025-03-03T14:02:00.000Z',
      status: status('failed', {
        stages: stages(c, {
          'quick-health-check': [30, 'succeeded'],
          'test-suite': [60, 'failed'],
          ...DELIVERY_SKIPPED,
        }),
        failure: 'stage test-suite failed [StepFailed]',
      }),
    },
    {
      // Production 09:10–09:11; the 09:13:00 sample breached; the final audit entry at 09:13:45 → 45 s.
      workflowId: 'breach',
      startedAt: d,
      closedAt: '2025-03-05T09:30:00.000Z',
      status: toSchema2(breachV1),
    },
    {
      // Production 16:20–16:21; alice rolled back at 16:25:00; final audit entry at 16:27:00 → 2 min.
      workflowId: 'operator',
      startedAt: e,
      closedAt: '2025-03-06T16:40:00.000Z',
      status: status(
        'rolled-back',
        {
          stages: delivered(e, [30, 80, 30, 60, 20, 10, 60], 1200),
          compensations: RESTORED,
          audit: [
            audit('2025-03-06T16:19:00.000Z', 'promote', 'alice', 'accepted'),
            audit('2025-03-06T16:24:00.000Z', 'rollback', 'mallory', 'refused'),
            audit('2025-03-06T16:25:00.000Z', 'rollback', 'alice', 'accepted'),
            audit('2025-03-06T16:27:00.000Z', 'release', 'ci', 'rolled-back'),
          ],
        },
        {
          verification: {
            samples: [sample('2025-03-06T16:22:00.000Z', { requests: 3, p95LatencyMs: 4, revenueEvents: 0 })],
          },
        },
      ),
    },
    {
      // Cancelled while the tests ran: test-suite has times but was skipped, so it has no duration.
      workflowId: 'cancelled',
      startedAt: f,
      closedAt: '2025-03-07T08:05:00.000Z',
      status: status('cancelled', {
        stages: stages(f, {
          'quick-health-check': [15, 'succeeded'],
          'test-suite': [45, 'skipped'],
          ...DELIVERY_SKIPPED,
        }),
      }),
    },
    {
      workflowId: 'running',
      startedAt: '2025-03-07T23:00:00.000Z',
      status: status('stages', {}),
    },
  ];
}

describe('computeMetrics', () => {
  const m = computeMetrics(fixtureRuns(), WINDOW, 'shop');

  it('counts runs by outcome; the one in flight is not finished', () => {
    assert.deepEqual(m.runs, {
      total: 7,
      finished: 6,
      running: 1,
      succeeded: 2,
      failed: 1,
      rolledBack: 2,
      cancelled: 1,
    });
    assert.equal(m.window.days, 7);
    assert.equal(m.app, 'shop');
  });

  it('success rate: succeeded over finished runs', () => {
    assert.deepEqual(m.successRate, { numerator: 2, denominator: 6, rate: 2 / 6 });
  });

  it('deployment frequency: succeeded production deployments per day of the window', () => {
    assert.deepEqual(m.deploymentFrequency, { deployments: 2, days: 7, perDay: 2 / 7 });
  });

  it('lead time: commit (or run start) to the end of deploy-to-production', () => {
    // a: 10:05:30 − 08:00:00 = 7 530 s; b: 12:11:00 − 12:00:00 = 660 s.
    assert.deepEqual(m.leadTime, {
      count: 2,
      meanMs: 4_095_000,
      p50Ms: 4_095_000,
      p95Ms: 7_530_000,
      fromRunStart: ['succeeded-b'],
    });
    assert.ok(m.notes.some((n) => n.includes('succeeded-b') && n.includes('start time')));
  });

  it('change failure rate: of the four that reached production, one breach and one operator', () => {
    assert.deepEqual(m.changeFailureRate, {
      numerator: 2,
      denominator: 4,
      rate: 0.5,
      breach: 1,
      operator: 1,
      reverted: 0,
      other: 0,
    });
  });

  it('time to restore: breaching sample or accepted rollback to the final audit entry', () => {
    assert.deepEqual(m.timeToRestore, {
      count: 2,
      meanMs: 82_500,
      p50Ms: 82_500,
      p95Ms: 120_000,
      notRestored: [],
      unmeasured: [],
    });
  });

  it('pipeline time and the summary figures', () => {
    // 600, 1200, 120, 1800, 2400, 300 s.
    assert.deepEqual(m.pipelineTime, { count: 6, meanMs: 1_070_000, p50Ms: 900_000, p95Ms: 2_400_000 });
    assert.deepEqual(m.summary, {
      successRate: 2 / 6,
      averagePipelineTimeMs: 1_070_000,
      deploymentFrequencyPerDay: 2 / 7,
    });
  });

  it('per stage: outcomes, median and nearest-rank p95 over stages that succeeded or failed', () => {
    const byName = new Map(m.stages.map((s) => [s.stage, s]));
    assert.deepEqual(
      m.stages.map((s) => s.stage),
      [
        'quick-health-check',
        'test-suite',
        'test-stripe-integration',
        'test-rag-engine',
        'verify-revenue-metrics',
        'build-production-image',
        'deploy-to-staging',
        'smoke-test-staging',
        'deploy-to-production',
      ],
    );
    // 10, 20, 30, 10, 30, 15 s.
    assert.deepEqual(byName.get('quick-health-check'), {
      stage: 'quick-health-check',
      succeeded: 6,
      failed: 0,
      skipped: 0,
      count: 6,
      meanMs: 19_167,
      p50Ms: 17_500,
      p95Ms: 30_000,
    });
    // 60, 90, 60 (failed), 70, 80 s; the cancelled run's is skipped.
    assert.deepEqual(byName.get('test-suite'), {
      stage: 'test-suite',
      succeeded: 4,
      failed: 1,
      skipped: 1,
      count: 5,
      meanMs: 72_000,
      p50Ms: 70_000,
      p95Ms: 90_000,
    });
    assert.deepEqual(byName.get('test-stripe-integration'), {
      stage: 'test-stripe-integration',
      succeeded: 4,
      failed: 0,
      skipped: 2,
      count: 4,
      meanMs: 32_500,
      p50Ms: 30_000,
      p95Ms: 40_000,
    });
    assert.deepEqual(byName.get('deploy-to-production'), {
      stage: 'deploy-to-production',
      succeeded: 4,
      failed: 0,
      skipped: 2,
      count: 4,
      meanMs: 52_500,
      p50Ms: 60_000,
      p95Ms: 60_000,
    });
  });

  it('daily timeline: one entry per UTC day, runs counted on the day they started', () => {
    const zero = { succeeded: 0, failed: 0, rolledBack: 0, cancelled: 0 };
    assert.deepEqual(m.daily, [
      { date: '2025-03-01', ...zero },
      { date: '2025-03-02', ...zero, succeeded: 1 },
      { date: '2025-03-03', ...zero, succeeded: 1, failed: 1 },
      { date: '2025-03-04', ...zero },
      { date: '2025-03-05', ...zero, rolledBack: 1 },
      { date: '2025-03-06', ...zero, rolledBack: 1 },
      { date: '2025-03-07', ...zero, cancelled: 1 },
    ]);
  });

  it('the schema 1 run counts like the others: its breach sample, its audit and its switch-back', () => {
    const breach = fixtureRuns().find((r) => r.workflowId === 'breach')!;
    assert.deepEqual(Object.keys(breach.status.environments), ['staging', 'production']);
    assert.equal(breach.status.source.commit, 'abc1234');
    const alone = computeMetrics([breach], WINDOW);
    assert.deepEqual(
      [
        alone.changeFailureRate.numerator,
        alone.changeFailureRate.denominator,
        alone.changeFailureRate.breach,
      ],
      [1, 1, 1],
    );
    assert.deepEqual(alone.timeToRestore, {
      count: 1,
      meanMs: 45_000,
      p50Ms: 45_000,
      p95Ms: 45_000,
      notRestored: [],
      unmeasured: [],
    });
  });

  it('a failed switch-back of a schema 1 run is not a restore, and is reported', () => {
    const runs = fixtureRuns();
    const breach = runs.find((r) => r.workflowId === 'breach')!;
    breach.status.compensations = [{ name: 'switch production back', ok: false, error: 'proxy down' }];
    const metrics = computeMetrics(runs, WINDOW);
    assert.equal(metrics.changeFailureRate.numerator, 2);
    assert.deepEqual(metrics.timeToRestore.notRestored, ['breach']);
    assert.equal(metrics.timeToRestore.count, 1);
    assert.equal(metrics.timeToRestore.p50Ms, 120_000);
    assert.ok(metrics.notes.some((n) => n.includes('NOT switched back')));
  });

  it("a failed restore of production is not a restore, even when staging's succeeded", () => {
    const runs = fixtureRuns();
    const operator = runs.find((r) => r.workflowId === 'operator')!;
    operator.status.compensations = [
      { name: 'restore production', ok: false, error: 'proxy down' },
      { name: 'restore staging', ok: true },
      { name: 'discard artifact', ok: true },
    ];
    const metrics = computeMetrics(runs, WINDOW);
    assert.equal(metrics.changeFailureRate.numerator, 2);
    assert.deepEqual(metrics.timeToRestore.notRestored, ['operator']);
    assert.equal(metrics.timeToRestore.count, 1);
    assert.equal(metrics.timeToRestore.p50Ms, 45_000);
    assert.ok(metrics.notes.some((n) => n.includes('NOT switched back for operator')));
  });
});

describe("production is the last environment of each run's chain, whatever its name", () => {
  const start = '2025-03-04T10:00:00.000Z';
  /** A run of `chain` whose stages are `deploy-to-<env>` each taking 60 s, back to back from +100 s. */
  function chainRun(
    workflowId: string,
    chain: string[],
    phase: ReleasePhase,
    deployed: string[],
    extra: Partial<ReleaseStatus> = {},
  ): RunRecord {
    const stagesOf: ReleaseStatus['stages'] = {
      build: { state: 'succeeded', attempts: 1, startedAt: at(start, 0), endedAt: at(start, 100) },
    };
    chain.forEach((env, index) => {
      stagesOf[`deploy-to-${env}`] = deployed.includes(env)
        ? {
            state: 'succeeded',
            attempts: 1,
            startedAt: at(start, 100 + 60 * index),
            endedAt: at(start, 160 + 60 * index),
          }
        : { state: 'skipped', attempts: 0 };
    });
    return {
      workflowId,
      startedAt: start,
      closedAt: at(start, 600),
      status: status(phase, {
        stages: stagesOf,
        environments: Object.fromEntries(chain.map((env) => [env, {}])),
        ...extra,
      }),
    };
  }

  it('a chain of one environment named prod: its deploy is the production deployment', () => {
    const m = computeMetrics([chainRun('prod-only', ['prod'], 'succeeded', ['prod'])], WINDOW);
    assert.equal(m.deploymentFrequency.deployments, 1);
    // deploy-to-prod ended at +160 s; no commit time, so from the run's start.
    assert.deepEqual(m.leadTime, {
      count: 1,
      meanMs: 160_000,
      p50Ms: 160_000,
      p95Ms: 160_000,
      fromRunStart: ['prod-only'],
    });
  });

  it('a rollback of prod is restored by "restore prod"', () => {
    const run = chainRun('prod-rollback', ['prod'], 'rolled-back', ['prod'], {
      compensations: [
        { name: 'restore prod', ok: true },
        { name: 'discard artifact', ok: true },
      ],
      audit: [
        audit(at(start, 200), 'rollback', 'alice', 'accepted'),
        audit(at(start, 230), 'release', 'ci', 'rolled-back'),
      ],
    });
    const m = computeMetrics([run], WINDOW);
    assert.deepEqual(
      [m.changeFailureRate.numerator, m.changeFailureRate.denominator, m.changeFailureRate.operator],
      [1, 1, 1],
    );
    assert.deepEqual(
      [m.timeToRestore.count, m.timeToRestore.p50Ms, m.timeToRestore.notRestored],
      [1, 30_000, []],
    );
  });

  it('an environment named production that is not the last link is not production', () => {
    // production → dr: the run switched production, then failed before dr, so it never reached its last link.
    const partway = chainRun('partway', ['production', 'dr'], 'failed', ['production'], {
      compensations: [{ name: 'restore production', ok: true }],
    });
    const through = chainRun('through', ['production', 'dr'], 'succeeded', ['production', 'dr']);
    const m = computeMetrics([partway, through], WINDOW);
    assert.equal(m.deploymentFrequency.deployments, 1, 'only the run that reached dr deployed');
    assert.deepEqual([m.changeFailureRate.numerator, m.changeFailureRate.denominator], [0, 1]);
    assert.deepEqual(m.timeToRestore.notRestored, []);
    // through: deploy-to-dr ended at +220 s.
    assert.equal(m.leadTime.p50Ms, 220_000);
  });
});

describe('computeMetrics edge cases', () => {
  it('no runs: zero counts, null figures, an empty day per day', () => {
    const m = computeMetrics([], WINDOW);
    assert.equal(m.runs.total, 0);
    assert.deepEqual(m.successRate, { numerator: 0, denominator: 0, rate: null });
    assert.deepEqual(m.deploymentFrequency, { deployments: 0, days: 7, perDay: 0 });
    assert.deepEqual(m.leadTime, { count: 0, meanMs: null, p50Ms: null, p95Ms: null, fromRunStart: [] });
    assert.equal(m.changeFailureRate.rate, null);
    assert.equal(m.timeToRestore.p50Ms, null);
    assert.deepEqual(m.stages, []);
    assert.equal(m.daily.length, 7);
    assert.deepEqual(m.summary, {
      successRate: null,
      averagePipelineTimeMs: null,
      deploymentFrequencyPerDay: 0,
    });
    assert.deepEqual(m.notes, []);
  });

  it('only failures: success rate 0, no production, no change failure rate', () => {
    const runs = fixtureRuns().filter((r) => r.workflowId === 'failed-tests');
    const three = [0, 1, 2].map((i) => ({ ...runs[0]!, workflowId: `failed-${i}` }));
    const m = computeMetrics(three, WINDOW);
    assert.deepEqual(m.successRate, { numerator: 0, denominator: 3, rate: 0 });
    assert.equal(m.deploymentFrequency.perDay, 0);
    assert.deepEqual(m.changeFailureRate, {
      numerator: 0,
      denominator: 0,
      rate: null,
      breach: 0,
      operator: 0,
      reverted: 0,
      other: 0,
    });
    assert.equal(m.leadTime.count, 0);
    const tests = m.stages.find((s) => s.stage === 'test-suite')!;
    assert.deepEqual([tests.succeeded, tests.failed, tests.p50Ms, tests.p95Ms], [0, 3, 60_000, 60_000]);
  });

  it('one run: median, p95 and mean are that run', () => {
    const one = fixtureRuns().filter((r) => r.workflowId === 'succeeded-a');
    const m = computeMetrics(one, WINDOW);
    assert.deepEqual(m.successRate.rate, 1);
    assert.deepEqual(m.leadTime, {
      count: 1,
      meanMs: 7_530_000,
      p50Ms: 7_530_000,
      p95Ms: 7_530_000,
      fromRunStart: [],
    });
    assert.deepEqual(m.pipelineTime, { count: 1, meanMs: 600_000, p50Ms: 600_000, p95Ms: 600_000 });
    assert.equal(m.changeFailureRate.rate, 0);
  });

  it('a release reverted later by rollback --env is a change failure, restored when that rollback ended', () => {
    const run = fixtureRuns().find((r) => r.workflowId === 'succeeded-a')!;
    run.status.releaseId = 'shop-abc1234-0000aaaa';
    const production = lastEnvironment(run.status)!;
    const deployed = Date.parse(run.status.stages[deliveryStep.deploy(production)]!.endedAt!);
    const at = (s: number): string => new Date(deployed + s * 1000).toISOString();
    const rollback = (over: Partial<EnvironmentRollbackRecord>): EnvironmentRollbackRecord => ({
      workflowId: 'rollback-shop',
      environment: production,
      from: run.status.releaseId!,
      requestedAt: at(600),
      closedAt: at(640),
      outcome: 'rolled-back',
      ...over,
    });
    const m = computeMetrics([run], WINDOW, null, [
      rollback({}),
      // Counted once: a repeat that changed nothing, another environment, another release, a failed one.
      rollback({ workflowId: 'again', outcome: 'unchanged', requestedAt: at(700), closedAt: at(701) }),
      rollback({ workflowId: 'staging', environment: 'somewhere-else' }),
      rollback({ workflowId: 'other-release', from: 'shop-0000000-ffffffff' }),
      rollback({ workflowId: 'failed', outcome: 'failed' }),
      // Before the deploy: a rollback of the release before, not of this one.
      rollback({ workflowId: 'earlier', requestedAt: at(-60), closedAt: at(-50) }),
    ]);
    assert.deepEqual(
      [m.changeFailureRate.numerator, m.changeFailureRate.denominator, m.changeFailureRate.reverted],
      [1, 1, 1],
    );
    assert.deepEqual([m.timeToRestore.count, m.timeToRestore.p50Ms], [1, 40_000]);
    assert.equal(m.deploymentFrequency.deployments, 1, 'it was deployed, and counts as a deployment');
  });

  it('a run that failed after the switch counts as a change failure of cause "other", not measured', () => {
    const run = fixtureRuns().find((r) => r.workflowId === 'succeeded-a')!;
    run.status.phase = 'failed';
    run.status.compensations = RESTORED;
    const m = computeMetrics([run], WINDOW);
    assert.deepEqual(
      [m.changeFailureRate.numerator, m.changeFailureRate.denominator, m.changeFailureRate.other],
      [1, 1, 1],
    );
    assert.deepEqual(m.timeToRestore.unmeasured, ['succeeded-a']);
    assert.equal(m.deploymentFrequency.deployments, 0);
  });
});

/** Checks that every <svg> in `html` is well-formed XML (balanced tags, quoted attributes, escaped text). */
function assertWellFormedSvg(html: string): number {
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  for (const svg of svgs) {
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const stack: string[] = [];
    const tokens = svg.split(/(<[^>]*>)/).filter((t) => t.length > 0);
    for (const token of tokens) {
      if (!token.startsWith('<')) {
        assert.doesNotMatch(token, /[<>]|&(?!(amp|lt|gt|quot|#39);)/, `raw text in SVG: ${token}`);
        continue;
      }
      const tag = /^<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>$/.exec(token);
      assert.ok(tag, `malformed tag: ${token}`);
      const [, closing, name, , selfClosing] = tag;
      if (closing) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
      else if (!selfClosing) stack.push(name!);
    }
    assert.deepEqual(stack, [], 'every element is closed');
  }
  return svgs.length;
}

describe('renderHtml', () => {
  it('holds the figures and two well-formed inline SVG charts, and loads nothing', () => {
    const m = computeMetrics(fixtureRuns(), WINDOW, 'shop');
    const html = renderHtml(m);
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.equal(assertWellFormedSvg(html), 2);
    for (const figure of [
      '33.3 %',
      '0.29 / day',
      '50.0 %',
      '1h 08m',
      '1m 23s',
      '17m 50s',
      'breach 1, operator 1',
    ]) {
      assert.ok(html.includes(figure), `report shows ${figure}`);
    }
    assert.ok(html.includes('id="stage-chart"') && html.includes('id="timeline-chart"'));
    for (const stage of m.stages)
      assert.ok(html.includes(`>${stage.stage}</text>`), `${stage.stage} in the chart`);
    assert.ok(html.includes('succeeded-b'), 'the lead-time note names the run');
    assert.doesNotMatch(html, /<script|<link|\ssrc=|\shref=|url\(|@import/);
    assert.deepEqual(html.match(/https?:\/\/[^"]+/g), [
      'http://www.w3.org/2000/svg',
      'http://www.w3.org/2000/svg',
    ]);
  });

  it('renders an empty window, and escapes what it is given', () => {
    const html = renderHtml(computeMetrics([], WINDOW, '<shop & co>'));
    assert.equal(assertWellFormedSvg(html), 2);
    assert.ok(html.includes('&lt;shop &amp; co&gt;'));
    assert.ok(!html.includes('<shop & co>'));
    assert.ok(html.includes('no finished runs in the window'));
    assert.equal(escapeXml(`a"b'c`), 'a&quot;b&#39;c');
  });
});

describe('statsWindow', () => {
  const now = new Date('2025-03-08T00:00:00.000Z');
  it('defaults to the last 7 days', () => {
    assert.deepEqual(statsWindow({}, now), WINDOW);
    assert.deepEqual(statsWindow({ since: '24h' }, now), {
      from: '2025-03-07T00:00:00.000Z',
      to: WINDOW.to,
    });
  });
  it('takes --from/--to, and --since back from --to', () => {
    assert.deepEqual(statsWindow({ from: '2025-03-01', to: '2025-03-08' }, now), WINDOW);
    assert.deepEqual(statsWindow({ from: '2025-03-01' }, now), WINDOW);
    assert.deepEqual(statsWindow({ since: '1d', to: '2025-03-02T00:00:00Z' }, now), {
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-03-02T00:00:00.000Z',
    });
  });
  it('refuses bad windows with exit code 2', () => {
    for (const options of [
      { since: 'soon' },
      { since: '7d', from: '2025-03-01' },
      { from: 'yesterday' },
      { from: '2025-03-09' },
      { since: '5y' },
    ]) {
      assert.throws(
        () => statsWindow(options, now),
        (e: unknown) => e instanceof ExitError && e.code === 2,
        JSON.stringify(options),
      );
    }
  });
});

describe('gitCommitTime', () => {
  it('reads the committer date of a revision, and nothing for a label or a missing dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-stats-git-'));
    const git = (...args: string[]): string =>
      execFileSync('git', args, {
        cwd: dir,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.com',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.com',
          GIT_AUTHOR_DATE: '2025-03-01T09:00:00Z',
          GIT_COMMITTER_DATE: '2025-03-02T08:00:00+02:00',
        },
      }).toString();
    git('init', '-q');
    writeFileSync(join(dir, 'a.txt'), 'a');
    git('add', '.');
    git('commit', '-q', '-m', 'a');
    const sha = git('rev-parse', 'HEAD').trim();
    assert.equal(await gitCommitTime(dir, sha), '2025-03-02T06:00:00.000Z');
    assert.equal(await gitCommitTime(dir, sha.slice(0, 7)), '2025-03-02T06:00:00.000Z');
    assert.equal(await gitCommitTime(dir, 'release-label'), undefined);
    assert.equal(await gitCommitTime(dir, '--output=/tmp/x'), undefined);
    assert.equal(await gitCommitTime(join(dir, 'missing'), sha), undefined);
  });
});
