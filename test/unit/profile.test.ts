/** `--profile` without a server: the history → per-stage timing function over hand-made events. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { formatProfile, profileFromHistory, type ProfileEvent } from '../../src/cli/profile.js';

/** The repository root (dist/test/unit → three levels up). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const T0 = Date.parse('2025-03-01T10:00:00.000Z');

/** A history built event by event, with the SDK's shapes: numeric types, {seconds, nanos} times, byte payloads. */
class History {
  readonly events: ProfileEvent[] = [];

  constructor() {
    this.push(1, 0); // WorkflowExecutionStarted
  }

  /** ActivityTaskScheduled at `ms` (after T0) with `summary`; returns its event id. */
  scheduled(ms: number, summary: string | undefined, type = 'runStage'): number {
    return this.push(10, ms, {
      ...(summary !== undefined
        ? { userMetadata: { summary: { data: new TextEncoder().encode(JSON.stringify(summary)) } } }
        : {}),
      activityTaskScheduledEventAttributes: { activityType: { name: type } },
    });
  }

  started(ms: number, scheduledEventId: number, attempt = 1): void {
    this.push(11, ms, { activityTaskStartedEventAttributes: { scheduledEventId, attempt } });
  }

  completed(ms: number, scheduledEventId: number): void {
    this.push(12, ms, { activityTaskCompletedEventAttributes: { scheduledEventId } });
  }

  failed(ms: number, scheduledEventId: number): void {
    this.push(13, ms, { activityTaskFailedEventAttributes: { scheduledEventId } });
  }

  canceled(ms: number, scheduledEventId: number): void {
    this.push(16, ms, { activityTaskCanceledEventAttributes: { scheduledEventId } });
  }

  /** Any other event (workflow task, workflow closed) at `ms`. */
  other(ms: number, type = 7): void {
    this.push(type, ms);
  }

  private push(eventType: number, ms: number, extra: Partial<ProfileEvent> = {}): number {
    const id = this.events.length + 1;
    const at = T0 + ms;
    this.events.push({
      eventId: id,
      eventType,
      eventTime: { seconds: Math.floor(at / 1000), nanos: (at % 1000) * 1e6 },
      ...extra,
    });
    return id;
  }
}

describe('profileFromHistory', () => {
  it('splits each stage into queue wait and run time, in the order stages were scheduled', () => {
    const h = new History();
    const health = h.scheduled(100, 'quick-health-check');
    h.started(350, health);
    h.completed(1350, health);
    const tests = h.scheduled(1400, 'test-suite');
    h.started(1450, tests);
    h.completed(4450, tests);
    h.other(4500, 2); // workflow execution completed

    const profile = profileFromHistory(h.events);
    assert.deepEqual(
      profile.stages.map((s) => [s.stage, s.queueWaitMs, s.runMs, s.retries, s.outcome]),
      [
        ['quick-health-check', 250, 1000, 0, 'completed'],
        ['test-suite', 50, 3000, 0, 'completed'],
      ],
    );
    assert.deepEqual(profile.total, { queueWaitMs: 300, retryWaitMs: 0, runMs: 4000, retries: 0 });
    assert.equal(profile.wallMs, 4500);
  });

  it('counts retries from the last attempt and keeps their wait apart from queue wait', () => {
    const h = new History();
    const stripe = h.scheduled(0, 'test-stripe-integration');
    // The server writes the Started event of a retried activity once, for the last attempt.
    h.started(5000, stripe, 3);
    h.completed(7000, stripe);
    const profile = profileFromHistory(h.events);
    const [only] = profile.stages;
    assert.equal(only?.retries, 2);
    assert.equal(only?.queueWaitMs, 0);
    assert.equal(only?.retryWaitMs, 5000, 'earlier attempts and backoff');
    assert.equal(only?.runMs, 2000, 'the last attempt');
    assert.equal(profile.total.retries, 2);
  });

  it('overlapping stages each keep their own times; the wall clock is shorter than the sum', () => {
    const h = new History();
    const gates = ['test-stripe-integration', 'test-rag-engine', 'verify-revenue-metrics'].map((name, i) =>
      h.scheduled(i * 10, name),
    );
    gates.forEach((id, i) => h.started(100 + i * 10, id));
    gates.forEach((id) => h.completed(2100, id));
    const profile = profileFromHistory(h.events);
    assert.deepEqual(
      profile.stages.map((s) => [s.stage, s.queueWaitMs, s.runMs]),
      [
        ['test-stripe-integration', 100, 2000],
        ['test-rag-engine', 100, 1990],
        ['verify-revenue-metrics', 100, 1980],
      ],
    );
    assert.ok(profile.wallMs < profile.total.runMs);
  });

  it('labels by the summary up to ":", groups repeats, and falls back to the activity type', () => {
    const h = new History();
    const deploy = h.scheduled(0, 'deploy-to-staging: fixture-abc1234-0011aabb', 'deployRelease');
    h.started(10, deploy);
    h.completed(510, deploy);
    for (const start of [1000, 2000, 3000]) {
      const sample = h.scheduled(start, 'verification sample', 'sampleProduction');
      h.started(start + 5, sample);
      h.completed(start + 105, sample);
    }
    const audit = h.scheduled(4000, undefined, 'recordAudit');
    h.started(4001, audit);
    h.completed(4011, audit);
    const profile = profileFromHistory(h.events);
    assert.deepEqual(
      profile.stages.map((s) => [s.stage, s.activities, s.queueWaitMs, s.runMs]),
      [
        ['deploy-to-staging', 1, 10, 500],
        ['verification sample', 3, 15, 300],
        ['recordAudit', 1, 1, 10],
      ],
    );
  });

  it('failed, cancelled-before-start and still-open activities', () => {
    const h = new History();
    const build = h.scheduled(0, 'build-production-image');
    h.started(100, build, 2);
    h.failed(900, build);
    const never = h.scheduled(1000, 'deploy-to-staging');
    h.canceled(1500, never);
    const open = h.scheduled(2000, 'smoke-test-staging');
    h.other(2600);
    void open;
    const profile = profileFromHistory(h.events);
    assert.deepEqual(
      profile.stages.map((s) => [s.stage, s.outcome, s.queueWaitMs, s.retryWaitMs, s.runMs, s.retries]),
      [
        ['build-production-image', 'failed', 0, 100, 800, 1],
        ['deploy-to-staging', 'cancelled', 500, 0, 0, 0],
        ['smoke-test-staging', 'open', 600, 0, 0, 0],
      ],
    );
  });

  it('reads the JSON form of `temporal workflow show` (a recorded fixture)', () => {
    const history = JSON.parse(
      readFileSync(join(ROOT, 'test/fixtures/histories/release-succeeded.json'), 'utf8'),
    ) as { events: ProfileEvent[] };
    const profile = profileFromHistory(history.events);
    const names = profile.stages.map((s) => s.stage);
    for (const stage of ['quick-health-check', 'test-suite', 'build-production-image']) {
      assert.ok(names.includes(stage), `${stage} in ${names.join(', ')}`);
    }
    assert.ok(profile.stages.every((s) => s.queueWaitMs >= 0 && s.runMs >= 0));
    assert.ok(profile.wallMs > 0);
  });

  it('formats a table with a total row', () => {
    const h = new History();
    const id = h.scheduled(0, 'test-suite');
    h.started(200, id, 2);
    h.completed(1200, id);
    const lines = formatProfile(profileFromHistory(h.events));
    assert.match(lines.join('\n'), /test-suite\s+0\.0s\s+0\.2s\s+1\.0s\s+1/);
    assert.match(lines.join('\n'), /total\s+0\.0s\s+0\.2s\s+1\.0s\s+1/);
  });
});
