/**
 * The release workflow's decisions, pinned in seconds: the real workflow bundle on Temporal's
 * time-skipping test server, with stub activities that record every call. What only real processes
 * can show (process groups stopped, proxies switched, files written) stays in test/integration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { FailureType } from '../../src/failures.js';
import type { DecisionArgs } from '../../src/types.js';
import { queryStatus } from '../../src/cli/runs.js';
import { promoteUpdate, rollbackUpdate } from '../../src/workflows/messages.js';
import { waitForPhase } from '../support/delivery.js';
import { REVENUE_GATES } from '../support/stages.js';
import {
  breachingSamples,
  call,
  failingRestore,
  failingSmokeTest,
  settlesWhen,
  stage,
  type ActivityName,
  type CallLog,
  type StageBehaviour,
} from '../support/stub-activities.js';
import {
  APPROVER,
  DEFAULT_SAMPLES,
  decisionInput,
  NOT_AN_APPROVER,
  runRelease,
  TimeSkippingServer,
  type Ending,
} from '../support/time-skipping.js';

const server = new TimeSkippingServer();
before(() => server.start());
after(() => server.stop());

// ---- The calls of a release, in the order the workflow makes them ----

/** The run checks its commit out first (and claims its environments' ports). */
const SOURCE = call.prepareSource;
const CHECKS = [call.stage('quick-health-check'), call.stage('test-suite')];
/** The revenue gates start together: a group, in any order. */
const GATES = REVENUE_GATES.map(call.stage);
const BUILD = call.stage('build-production-image');
const UP_TO_BUILD = [SOURCE, ...CHECKS, GATES, BUILD];
/** The first gate (staging's, automatic) asks the worker once per run whether approvals must be signed. */
const AT_FIRST_GATE = call.approvalsRequired;
/** Every link deploys beside what serves, checks the new release directly, then switches. */
const STAGING = [
  AT_FIRST_GATE,
  call.deploy('staging'),
  call.releaseHealth,
  call.activate('staging'),
  call.smokeTest(),
];
const UP_TO_GATE = [...UP_TO_BUILD, ...STAGING];
const PRODUCTION = [
  call.deploy('production'),
  call.releaseHealth,
  call.baseline(),
  call.activate('production'),
];
const SAMPLES = Array<string>(DEFAULT_SAMPLES).fill(call.sample());
const SETTLE = [call.settle('production'), call.settle('staging')];
/** How every run ends: the audit trail is written, then the run's checkout removed. */
const CLOSE = [call.audit, call.closeWorkspace];
const PROMOTED = [...PRODUCTION, ...SAMPLES, ...SETTLE, ...CLOSE];
/** The undos of staging and the build, newest first. */
const UNDO_STAGING = [call.restore('staging'), call.discardArtifact];
const UNDO_PRODUCTION = [call.restore('production'), ...UNDO_STAGING];

/** Activities that move a release through the environments (after the build). */
const DELIVERY: ActivityName[] = [
  'deployRelease',
  'activateRelease',
  'smokeTest',
  'smokeTestImage',
  'checkReleaseHealth',
  'sampleEnvironment',
  'settleEnvironment',
  'restoreEnvironment',
];

// ---- Small assertions ----

/** The run's calls in order (notifications aside); an inner list is a group whose calls come in any order. */
function assertSteps(log: CallLog, expected: (string | readonly string[])[]): void {
  const groupsSorted = (steps: string[]): string[] => {
    let at = 0;
    const parts = expected.map((part) => {
      const slice = steps.slice(at, (at += typeof part === 'string' ? 1 : part.length));
      return typeof part === 'string' ? slice : slice.sort();
    });
    return [...parts.flat(), ...steps.slice(at)];
  };
  assert.deepEqual(groupsSorted(log.steps()), groupsSorted(expected.flat()));
}

/** The audit trail as `<action> <outcome>`; tests that care who decided read the entry itself. */
function auditTrail(log: CallLog): string[] {
  return log.audit().map((entry) => `${entry.action} ${entry.outcome}`);
}

function assertNoDelivery(log: CallLog): void {
  const delivered = log.calls.filter((c) => DELIVERY.includes(c.activity)).map((c) => c.label);
  assert.deepEqual(delivered, [], 'no delivery activity runs');
}

/** The run failed (or rolled back) with `type`; returns its message. */
function failureOf(ending: Ending, outcome: 'failed' | 'rolled-back', type: string): string {
  assert.equal(ending.outcome, outcome, ending.failure?.message);
  assert.ok(ending.failure, 'the run failed');
  assert.equal(ending.failure.type, type);
  return ending.failure.message;
}

/** Each of `stages` behaves as `behaviour`. */
function each(stages: readonly string[], behaviour: StageBehaviour): Record<string, StageBehaviour> {
  return Object.fromEntries(stages.map((name) => [name, behaviour]));
}

/** A decision from an operator, as `tollgate promote` / `rollback` sends it. */
const by = (who: string, reason?: string): { args: [DecisionArgs] } => ({
  args: [{ by: who, ...(reason ? { reason } : {}) }],
});

const MANUAL = { gate: { mode: 'manual' } } as const;

describe('release decisions (time-skipping server, stub activities)', () => {
  it('auto gate: every step in order, the revenue gates together, and the run succeeds', async () => {
    const { ending, log } = await runRelease(server, {
      label: 'happy',
      input: decisionInput(),
      // Each gate passes only once all three have started: sequential gates would never get there.
      stubs: { stages: each(REVENUE_GATES, stage.afterStarted(REVENUE_GATES)) },
    });
    assert.equal(ending.outcome, 'succeeded', ending.failure?.message);
    assertSteps(log, [...UP_TO_GATE, ...PROMOTED]);
    const lastGateBegun = Math.max(...GATES.map((label) => log.calls.findIndex((c) => c.label === label)));
    for (const gate of GATES.flatMap((label) => log.of(label))) {
      assert.ok(
        (gate.begunWhenSettled ?? 0) > lastGateBegun,
        `every revenue gate began before ${gate.label} ended`,
      );
    }
    assert.deepEqual(auditTrail(log), [
      'auto-promote accepted',
      'auto-promote accepted',
      'release succeeded',
    ]);
    assert.deepEqual(log.notified(), ['promoted']);
  });

  it('a failing revenue gate cancels its running siblings and fails the run with its type', async () => {
    const [failing, ...siblings] = REVENUE_GATES;
    const { ending, log } = await runRelease(server, {
      label: 'gate-fails',
      input: decisionInput(),
      stubs: {
        stages: {
          ...each(siblings, stage.waitsForCancellation()),
          // Fails only once its siblings run, so there is something to cancel.
          [failing]: stage.afterStarted(siblings, stage.failsWith(FailureType.LiveStripeKey)),
        },
      },
    });
    const message = failureOf(ending, 'failed', FailureType.LiveStripeKey);
    assert.match(message, new RegExp(`stage ${failing} failed \\[LiveStripeKey\\]`));
    for (const sibling of siblings) {
      assert.deepEqual(
        log.of(call.stage(sibling)).map((c) => c.outcome),
        ['cancelled'],
        `${sibling} observed the cancellation`,
      );
      assert.equal(ending.status?.stages[sibling]?.state, 'skipped');
    }
    assertSteps(log, [SOURCE, ...CHECKS, GATES, ...CLOSE]);
    assertNoDelivery(log);
  });

  it('a failing staging smoke test undoes staging, then the build, and fails with SmokeTestFailed', async () => {
    const { ending, log } = await runRelease(server, {
      label: 'smoke-fails',
      input: decisionInput(),
      stubs: { activities: failingSmokeTest() },
    });
    const message = failureOf(ending, 'failed', FailureType.SmokeTestFailed);
    assert.match(message, /^stage smoke-test-staging failed \[SmokeTestFailed\]/);
    assert.match(message, /rolled back: restore staging, discard artifact$/);
    assertSteps(log, [...UP_TO_BUILD, ...STAGING, ...UNDO_STAGING, ...CLOSE]);
  });

  describe('a manual gate that times out', () => {
    it("with onTimeout 'rollback': audited, undone newest first, rolled back", async () => {
      const { ending, log } = await runRelease(server, {
        label: 'gate-timeout-rollback',
        input: decisionInput({ gate: { mode: 'manual', timeoutMs: 30 * 60_000, onTimeout: 'rollback' } }),
      });
      failureOf(ending, 'rolled-back', FailureType.RolledBack);
      assert.equal(ending.status?.environments.production?.gate?.state, 'timed-out');
      assertSteps(log, [...UP_TO_GATE, ...UNDO_STAGING, ...CLOSE]);
      assert.deepEqual(auditTrail(log), [
        'auto-promote accepted',
        'gate-timeout accepted',
        'release rolled-back',
      ]);
      assert.match(log.audit()[1]!.reason, /no decision within 1800 s; the config says rollback/);
      assert.deepEqual(log.notified(), ['gate-waiting', 'rolled-back']);
    });

    it("with onTimeout 'promote': the release goes on to production", async () => {
      const { ending, log } = await runRelease(server, {
        label: 'gate-timeout-promote',
        input: decisionInput({ gate: { mode: 'manual', timeoutMs: 30 * 60_000, onTimeout: 'promote' } }),
      });
      assert.equal(ending.outcome, 'succeeded', ending.failure?.message);
      assertSteps(log, [...UP_TO_GATE, ...PROMOTED]);
      assert.deepEqual(auditTrail(log), [
        'auto-promote accepted',
        'gate-timeout accepted',
        'release succeeded',
      ]);
    });
  });

  it("promote through the update: a non-approver's is refused and changes nothing; an approver's is accepted", async () => {
    const { ending, log } = await runRelease(server, {
      label: 'promote',
      input: decisionInput(MANUAL),
      drive: async (handle) => {
        const waiting = await waitForPhase(handle, 'awaiting-promotion');
        await assert.rejects(
          handle.executeUpdate(promoteUpdate, by(NOT_AN_APPROVER)),
          (error: unknown) =>
            error instanceof WorkflowUpdateFailedError &&
            /mallory is not an approver of fixture/.test(String(error.cause?.message)),
        );
        const after = await queryStatus(handle);
        assert.deepEqual(
          { ...after, audit: waiting.audit },
          waiting,
          'the refused promote changed nothing but the audit trail',
        );
        assert.match(after.audit.at(-1)?.reason ?? '', /^refused: mallory is not an approver of fixture/);
        const answer = await handle.executeUpdate(promoteUpdate, by(APPROVER, 'looks good'));
        assert.deepEqual(answer, { accepted: true, action: 'promote', phase: 'awaiting-promotion' });
      },
    });
    assert.equal(ending.outcome, 'succeeded', ending.failure?.message);
    // The refused promote was answered without asking the worker: it checked one decision, the approver's.
    assertSteps(log, [...UP_TO_GATE, call.verifyApproval('promote'), ...PROMOTED]);
    assert.deepEqual(auditTrail(log), [
      'auto-promote accepted',
      'promote refused',
      'promote accepted',
      'release succeeded',
    ]);
    assert.equal(log.audit()[1]?.by, NOT_AN_APPROVER, 'the refusal is on record, with who asked');
    assert.equal(log.audit()[2]?.by, APPROVER);
    assert.equal(log.audit()[2]?.environment, 'production');
  });

  it('a rollback during the verification window switches production back, then restores staging', async () => {
    const { ending, log } = await runRelease(server, {
      label: 'verify-rollback',
      // A long first interval: the server keeps real time until the result is awaited, so the run waits here.
      input: decisionInput({ verification: { durationMs: 60 * 60_000, intervalMs: 10 * 60_000 } }),
      drive: async (handle) => {
        await waitForPhase(handle, 'verifying');
        const answer = await handle.executeUpdate(rollbackUpdate, by(APPROVER, 'checkout errors'));
        assert.deepEqual(answer, { accepted: true, action: 'rollback', phase: 'verifying' });
      },
    });
    const message = failureOf(ending, 'rolled-back', FailureType.RolledBack);
    assert.match(message, /rolled back during verification of production by alice: checkout errors/);
    assertSteps(log, [
      ...UP_TO_GATE,
      ...PRODUCTION,
      call.verifyApproval('rollback'),
      ...UNDO_PRODUCTION,
      ...CLOSE,
    ]);
    assert.deepEqual(auditTrail(log), [
      'auto-promote accepted',
      'auto-promote accepted',
      'rollback accepted',
      'release rolled-back',
    ]);
  });

  it('a rollback accepted after the last verification sample is not ignored', {}, async () => {
    let accepted: boolean | undefined;
    const { ending } = await runRelease(server, {
      label: 'late-rollback',
      // Real time: drive() runs before the result is awaited, so the server does not skip this window.
      input: decisionInput({ verification: { durationMs: 1000, intervalMs: 500 } }),
      stubs: { activities: settlesWhen(() => accepted !== undefined) },
      drive: async (handle, log) => {
        await log.waitFor(call.settle('production'));
        accepted = await handle.executeUpdate(rollbackUpdate, by(APPROVER, 'too late?')).then(
          (answer) => answer.accepted,
          () => false,
        );
      },
    });
    // Refusing it (the window is over) would do; accepting it and releasing anyway does not.
    if (accepted) assert.equal(ending.outcome, 'rolled-back', 'the accepted rollback was carried out');
  });

  it('a breaching verification sample rolls back on its own: audited, undone, VerificationBreach', async () => {
    const { ending, log } = await runRelease(server, {
      label: 'breach',
      input: decisionInput(),
      stubs: { activities: breachingSamples('error-rate', '20 of 100 requests failed') },
    });
    const message = failureOf(ending, 'rolled-back', FailureType.VerificationBreach);
    assert.match(message, /verification of production breached error-rate: 20 of 100 requests failed/);
    assertSteps(log, [...UP_TO_GATE, ...PRODUCTION, call.sample(), ...UNDO_PRODUCTION, ...CLOSE]);
    assert.deepEqual(auditTrail(log), [
      'auto-promote accepted',
      'auto-promote accepted',
      'auto-rollback accepted',
      'release rolled-back',
    ]);
    assert.equal(log.audit()[2]?.reason, 'error-rate: 20 of 100 requests failed');
  });

  describe('until', () => {
    it('the build: the command stages run, no delivery activity does', async () => {
      const { ending, log } = await runRelease(server, {
        label: 'until-build',
        input: decisionInput({ until: 'build-production-image' }),
      });
      assert.equal(ending.outcome, 'succeeded', ending.failure?.message);
      assertSteps(log, [...UP_TO_BUILD, ...CLOSE]);
      assertNoDelivery(log);
      assert.equal(ending.status?.stages['deploy-to-staging']?.state, 'skipped');
    });

    it('quick-health-check: only that stage runs', async () => {
      const { ending, log } = await runRelease(server, {
        label: 'until-health',
        input: decisionInput({ until: 'quick-health-check' }),
      });
      assert.equal(ending.outcome, 'succeeded', ending.failure?.message);
      assertSteps(log, [SOURCE, call.stage('quick-health-check'), ...CLOSE]);
    });
  });

  it('a compensation that fails after its retries is named in the failure; the next undo still runs', async () => {
    const { ending, log } = await runRelease(server, {
      label: 'undo-fails',
      input: decisionInput(),
      stubs: { activities: { ...failingSmokeTest(), ...failingRestore('staging') } },
    });
    const message = failureOf(ending, 'failed', FailureType.SmokeTestFailed);
    assert.match(message, /COMPENSATION FAILED: restore staging \(staging proxy unreachable \(stub\)\)/);
    const restores = log.of(call.restore('staging'));
    assert.ok(restores.length > 1, `the undo was retried (${restores.length} attempts)`);
    assert.deepEqual(
      restores.map((c) => c.attempt),
      restores.map((_, i) => i + 1),
    );
    assertSteps(log, [
      ...UP_TO_BUILD,
      ...STAGING,
      ...restores.map(() => call.restore('staging')),
      call.discardArtifact,
      ...CLOSE,
    ]);
    assert.deepEqual(
      ending.status?.compensations.map((c) => [c.name, c.ok]),
      [
        ['restore staging', false],
        ['discard artifact', true],
      ],
    );
  });

  it('cancelling the run at a manual gate runs the compensations and still records the audit trail', async () => {
    const { ending, log } = await runRelease(server, {
      label: 'cancel-at-gate',
      input: decisionInput(MANUAL),
      drive: async (handle) => {
        await waitForPhase(handle, 'awaiting-promotion');
        await handle.cancel();
      },
    });
    assert.equal(ending.outcome, 'cancelled');
    assertSteps(log, [...UP_TO_GATE, ...UNDO_STAGING, ...CLOSE]);
    assert.deepEqual(auditTrail(log), ['auto-promote accepted', 'release cancelled']);
    assert.deepEqual(log.notified(), ['gate-waiting', 'rolled-back']);
  });
});
