/** What `watch` shows without a server: the changes between status queries, and the redrawn screen. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeTracker, formatChange } from '../../src/cli/progress.js';
import { renderScreen } from '../../src/cli/screen.js';
import type {
  EnvironmentProgress,
  GateStatus,
  ReleaseStatus,
  VerificationProgress,
  VerificationSample,
} from '../../src/types.js';

const sample = (at: string, extra: Partial<VerificationSample> = {}): VerificationSample => ({
  at,
  healthy: true,
  requests: 40,
  errorRate: 0.025,
  p95LatencyMs: 123.4,
  revenueEvents: 3,
  ...extra,
});

const PROMOTED: GateStatus = {
  state: 'promoted',
  since: '2025-03-01T10:00:30.000Z',
  timeoutAt: '2025-03-01T10:10:30.000Z',
  decidedBy: 'alice',
};

/** Staging passed; production's gate is promoted and its window has a baseline (or `verification`). */
function environments(verification?: VerificationProgress): Record<string, EnvironmentProgress> {
  return {
    staging: {},
    production: {
      gate: PROMOTED,
      verification: verification ?? { baseline: sample('2025-03-01T10:01:05.000Z'), samples: [] },
    },
  };
}

function status(extra: Partial<ReleaseStatus> = {}): ReleaseStatus {
  return {
    schemaVersion: 2,
    app: 'saas-app',
    source: {
      repository: '/srv/git/saas-app',
      commit: '3f2a9c1deadbeef00112233445566778899aabb',
      tree: null,
      subdir: '',
      revision: 'main',
    },
    phase: 'verifying',
    environment: 'production',
    stages: {
      'test-suite': {
        state: 'succeeded',
        attempts: 2,
        startedAt: '2025-03-01T10:00:00.000Z',
        endedAt: '2025-03-01T10:00:04.500Z',
        summary: '12 passed',
      },
      'deploy-to-production': { state: 'running', attempts: 1, startedAt: '2025-03-01T10:01:00.000Z' },
      'smoke-test-production': { state: 'pending', attempts: 0 },
    },
    environments: environments(),
    compensations: [],
    audit: [],
    ...extra,
  };
}

/** A change line as formatChange lays it out: mark, name padded to 24, text. */
const line = (mark: string, name: string, text: string): string => `  ${mark} ${name.padEnd(24)} ${text}`;

describe('ChangeTracker', () => {
  it('reports the phase, non-pending stages, the gate and the baseline once, then only what is new', () => {
    const tracker = new ChangeTracker();
    const first = tracker.changes(status()).map(formatChange);
    assert.deepEqual(first, [
      '  phase: verifying',
      line('✓', 'test-suite', 'succeeded in 4.5s after 2 attempts — 12 passed'),
      line('▶', 'deploy-to-production', 'running'),
      line('⏸', 'gate before production', 'promoted by alice'),
      line('~', 'baseline production', 'healthy, errors 2.5% of 40, p95 123ms, revenue events 3'),
    ]);
    assert.deepEqual(tracker.changes(status()), [], 'nothing changed');
    const breach = sample('2025-03-01T10:01:10.000Z', {
      errorRate: 0.3,
      breach: { signal: 'error-rate', detail: '30% > 5%' },
    });
    const next = tracker.changes(
      status({
        environments: environments({
          baseline: sample('2025-03-01T10:01:05.000Z'),
          samples: [sample('2025-03-01T10:01:08.000Z'), breach],
        }),
      }),
    );
    assert.deepEqual(next.map(formatChange), [
      line('~', 'verification production', 'healthy, errors 2.5% of 40, p95 123ms, revenue events 3'),
      line(
        '✗',
        'verification production',
        'healthy, errors 30.0% of 40, p95 123ms, revenue events 3 — breach: error-rate (30% > 5%)',
      ),
    ]);
  });

  it("a first release's baseline (nothing served yet) is shown as measured before the switch, not as a breach", () => {
    const empty = sample('2025-03-01T10:01:05.000Z', {
      healthy: false,
      requests: 0,
      errorRate: 0,
      p95LatencyMs: null,
      breach: { signal: 'health', detail: 'health check failed: no active release' },
    });
    const changes = new ChangeTracker().changes(
      status({ environments: environments({ baseline: empty, samples: [] }) }),
    );
    assert.equal(
      changes.map(formatChange).at(-1),
      line(
        '~',
        'baseline production',
        'unhealthy, errors 0.0% of 0, p95 -, revenue events 3 — before the switch: health check failed: no active release',
      ),
    );
  });

  it('keeps each environment of the chain apart: a gate and window per environment', () => {
    const tracker = new ChangeTracker();
    const waiting: GateStatus = { state: 'waiting', since: PROMOTED.since, timeoutAt: PROMOTED.timeoutAt };
    const chain = (qaSamples: VerificationSample[]): ReleaseStatus =>
      status({
        phase: 'awaiting-promotion',
        stages: {},
        environments: {
          qa: { verification: { samples: qaSamples } },
          prod: { gate: waiting },
        },
      });
    assert.deepEqual(tracker.changes(chain([sample('2025-03-01T10:00:10.000Z')])).map(formatChange), [
      '  phase: awaiting-promotion',
      line('~', 'verification qa', 'healthy, errors 2.5% of 40, p95 123ms, revenue events 3'),
      line('⏸', 'gate before prod', 'waiting for promote or rollback (until 2025-03-01T10:10:30.000Z)'),
    ]);
    // A sample of qa is new for qa only; prod's gate is unchanged.
    const more = chain([
      sample('2025-03-01T10:00:10.000Z'),
      sample('2025-03-01T10:00:12.000Z', { requests: 7 }),
    ]);
    assert.deepEqual(tracker.changes(more).map(formatChange), [
      line('~', 'verification qa', 'healthy, errors 2.5% of 7, p95 123ms, revenue events 3'),
    ]);
  });
});

describe('renderScreen', () => {
  it('shows the stage table with attempts and durations, the gate and the latest sample', () => {
    const lines = renderScreen(
      status({
        environments: environments({
          samples: [sample('2025-03-01T10:01:08.000Z', { p95LatencyMs: null, revenueEvents: null })],
          endsAt: '2025-03-01T10:02:00.000Z',
        }),
      }),
      { workflowId: 'release-saas-app', now: Date.parse('2025-03-01T10:01:02.000Z') },
    );
    assert.equal(lines[0], 'release-saas-app — saas-app @ 3f2a9c1deadb — verifying (production)');
    assert.match(lines[1]!, /stage +state +attempt +duration/);
    assert.match(lines[2]!, /✓ test-suite +succeeded +2 +4\.5s$/);
    assert.match(lines[3]!, /▶ deploy-to-production +running +1 +2\.0s$/, 'running: time so far');
    assert.match(lines[4]!, /· smoke-test-production +pending +- +-$/);
    assert.equal(lines[5], '  gate before production: promoted by alice');
    // No p95 yet is "-"; no revenue count (a config without a revenue block) is no revenue signal at all.
    assert.equal(
      lines[6],
      '  verification of production (sample 1, window ends 2025-03-01T10:02:00.000Z): healthy, errors 2.5% of 40, p95 -',
    );
    assert.equal(lines.length, 7, 'staging has no gate or window yet, so no line');
  });

  it('labels a snapshot of a dirty working tree, and shows the failure', () => {
    const lines = renderScreen(
      status({
        phase: 'failed',
        source: {
          ...status().source,
          dirty: { base: 'aaaabbbbccccddddeeeeffff0000111122223333', files: ['src/a.ts', 'src/b.ts'] },
        },
        failure: 'stage test-suite failed [StepFailed]\nlog: /tmp/x.log',
      }),
      { workflowId: 'release-saas-app', now: Date.parse('2025-03-01T10:01:02.000Z') },
    );
    assert.equal(
      lines[0],
      'release-saas-app — saas-app @ 3f2a9c1deadb (dirty: 2 uncommitted files on aaaabbbbcccc) — failed (production)',
    );
    assert.equal(lines.at(-1), '  failure: stage test-suite failed [StepFailed]');
  });
});
