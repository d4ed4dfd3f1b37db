/** What `watch` shows without a server: the changes between status queries, and the redrawn screen. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeTracker, formatChange } from '../../src/cli/progress.js';
import { renderScreen } from '../../src/cli/screen.js';
import type { ReleaseStatus, VerificationSample } from '../../src/types.js';

const sample = (at: string, extra: Partial<VerificationSample> = {}): VerificationSample => ({
  at,
  healthy: true,
  requests: 40,
  errorRate: 0.025,
  p95LatencyMs: 123.4,
  revenueEvents: 3,
  ...extra,
});

function status(extra: Partial<ReleaseStatus> = {}): ReleaseStatus {
  return {
    app: 'saas-app',
    ref: '3f2a9c1deadbeef00',
    phase: 'verifying',
    stages: {
      'test-suite': {
        state: 'succeeded',
        attempts: 2,
        startedAt: '2025-03-01T10:00:00.000Z',
        endedAt: '2025-03-01T10:00:04.500Z',
        summary: '12 passed',
      },
      'deploy-to-production': { state: 'running', attempts: 1, startedAt: '2025-03-01T10:01:00.000Z' },
      'smoke-test-staging': { state: 'pending', attempts: 0 },
    },
    compensations: [],
    audit: [],
    gate: {
      state: 'promoted',
      since: '2025-03-01T10:00:30.000Z',
      timeoutAt: '2025-03-01T10:10:30.000Z',
      decidedBy: 'alice',
    },
    verification: { baseline: sample('2025-03-01T10:01:05.000Z'), samples: [] },
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
      line('⏸', 'promotion gate', 'promoted by alice'),
      line('~', 'baseline', 'healthy, errors 2.5% of 40, p95 123ms, revenue events 3'),
    ]);
    assert.deepEqual(tracker.changes(status()), [], 'nothing changed');
    const breach = sample('2025-03-01T10:01:10.000Z', {
      errorRate: 0.3,
      breach: { signal: 'error-rate', detail: '30% > 5%' },
    });
    const next = tracker.changes(
      status({
        verification: {
          baseline: sample('2025-03-01T10:01:05.000Z'),
          samples: [sample('2025-03-01T10:01:08.000Z'), breach],
        },
      }),
    );
    assert.deepEqual(next.map(formatChange), [
      line('~', 'verification', 'healthy, errors 2.5% of 40, p95 123ms, revenue events 3'),
      line(
        '✗',
        'verification',
        'healthy, errors 30.0% of 40, p95 123ms, revenue events 3 — breach: error-rate (30% > 5%)',
      ),
    ]);
  });
});

describe('renderScreen', () => {
  it('shows the stage table with attempts and durations, the gate and the latest sample', () => {
    const lines = renderScreen(
      status({
        verification: {
          samples: [sample('2025-03-01T10:01:08.000Z', { p95LatencyMs: null, revenueEvents: null })],
          endsAt: '2025-03-01T10:02:00.000Z',
        },
      }),
      { workflowId: 'release-saas-app', now: Date.parse('2025-03-01T10:01:02.000Z') },
    );
    assert.equal(lines[0], 'release-saas-app — saas-app @ 3f2a9c1deadb — verifying');
    assert.match(lines[1]!, /stage +state +attempt +duration/);
    assert.match(lines[2]!, /✓ test-suite +succeeded +2 +4\.5s$/);
    assert.match(lines[3]!, /▶ deploy-to-production +running +1 +2\.0s$/, 'running: time so far');
    assert.match(lines[4]!, /· smoke-test-staging +pending +- +-$/);
    assert.equal(lines[5], '  gate: promoted by alice');
    assert.equal(
      lines[6],
      '  verification (sample 1, window ends 2025-03-01T10:02:00.000Z): healthy, errors 2.5% of 40, p95 -, revenue events -',
    );
  });
});
