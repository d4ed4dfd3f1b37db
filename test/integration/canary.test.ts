/**
 * Canary windows of the release workflow (issue 18) with the real sample app in a real local
 * environment: each step's share of customers at the switching proxy, the proxy's per-release
 * counters read every interval, and the verdicts of src/verification deciding. Also the rollback
 * brake. Steady request loops are the customers; nothing here asserts a timing.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStatus } from '../../src/environments/local/index.js';
import { FailureType } from '../../src/failures.js';
import type {
  AuditEntry,
  CanaryPlan,
  CanaryProgress,
  EnvironmentLink,
  ReleaseInput,
  ReleaseResult,
} from '../../src/types.js';
import { queryStatus } from '../../src/cli/runs.js';
import { verdictPlan, type VerdictPlanInput } from '../../src/verification/index.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { promoteUpdate, rollbackUpdate } from '../../src/workflows/messages.js';
import type { laneUnlock } from '../../src/workflows/lane.js';
import { canaryLines } from '../../src/workflows/ui.js';
import {
  APP_SECRETS,
  PAYMENT_PROBES,
  buildSampleApp,
  deliveryWorker,
  failureOf,
  requestLoop,
  sampleChain,
  sampleCommit,
  sampleInput,
  servedIn,
  stopSampleEnvironments,
  waitForPhase,
  windowHistory,
} from '../support/delivery.js';
import { startStripeMock } from '../support/stripe-mock.js';
import { recordHistory, ROOT, startTestServer, TEST_CACHE_DIR, temporalEnv } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
const homes: string[] = [];
const workers: ChildProcess[] = [];
before(async () => {
  await buildSampleApp();
  env = await startTestServer();
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await stopSampleEnvironments(homes);
  await env?.teardown();
});

/** A canary plan for tests: quick steps, a small minimum exposure, a strict α (an A/A run must not fail here). */
function canaryPlan(extra: Partial<CanaryPlan> = {}, verdict: VerdictPlanInput = {}): CanaryPlan {
  return {
    steps: [25, 50],
    stepMinMs: 1000,
    stepMaxMs: 90_000,
    intervalMs: 300,
    unavailableMaxMs: 2000,
    sticky: { header: 'x-customer-id' },
    verdict: verdictPlan({
      alpha: 0.001,
      minRequestsPerStep: 20,
      negligibleRate: 0.01,
      onInconclusive: 'rollback',
      ...verdict,
    }),
    external: [],
    ...extra,
  };
}

/** Production alone (auto gate, approver alice), with `canary`: the environment every test releases into. */
async function production(canary: CanaryPlan): Promise<EnvironmentLink[]> {
  const [, link] = await sampleChain();
  const { verification: _window, ...rest } = link!;
  return [{ ...rest, canary }];
}

/** The release succeeded through both steps (25 %, 50 %), each passing: its canary's progress. */
function passedEachStep(result: ReleaseResult): CanaryProgress {
  assert.equal(result.outcome, 'succeeded', result.status.failure);
  const canary = result.status.environments.production!.canary!;
  assert.deepEqual(
    canary.decided.map((d) => [d.weight, d.outcome]),
    [
      [25, 'pass'],
      [50, 'pass'],
    ],
  );
  return canary;
}

type Setup = Awaited<ReturnType<typeof deliveryWorker>>;
const setup = (label: string): Promise<Setup> => deliveryWorker(env, label, homes);

function start(
  s: Setup,
  id: string,
  chain: EnvironmentLink[],
  label: string,
  extra: Partial<ReleaseInput> = {},
): Promise<WorkflowHandle<ReleaseWorkflow>> {
  return env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
    taskQueue: s.taskQueue,
    workflowId: `${s.workflowId}-${id}`,
    args: [sampleInput(sampleCommit(s.repo, label), chain, extra)],
  });
}

/** A loop of customers (x-customer-id 0..15) against production's proxy. */
function customers(chain: EnvironmentLink[]): { stop: () => Promise<{ ok: number; failed: string[] }> } {
  return requestLoop(`http://127.0.0.1:${chain[0]!.environment.port}/api/insights?q=pricing`, 4, (i) => ({
    'x-customer-id': `customer-${i % 16}`,
  }));
}

describe('canary delivery', () => {
  it('a first release has no baseline: judged on absolute limits at 100 %, then a healthy canary passes each step', async (t) => {
    const s = await setup('canary-pass');
    const chain = await production(canaryPlan());
    await s.worker.runUntil(async () => {
      const loop = customers(chain);
      try {
        const first = await (await start(s, '1', chain, 'first')).result();
        const firstCanary = first.status.environments.production!.canary!;
        assert.equal(firstCanary.stable, null, 'nothing served before: no baseline');
        assert.deepEqual(firstCanary.steps, [100]);
        assert.equal(firstCanary.state, 'passed');
        assert.equal(firstCanary.decided.at(-1)?.reason, 'no-baseline-within-limits');
        assert.equal(firstCanary.verdict?.baseline, 'none');

        const second = await (await start(s, '2', chain, 'second')).result();
        for (const [name, stage] of Object.entries(second.status.stages)) {
          const took = (Date.parse(stage.endedAt ?? '') - Date.parse(stage.startedAt ?? '')) / 1000;
          t.diagnostic(`${name}: ${stage.state} in ${took.toFixed(1)} s — ${stage.summary ?? ''}`);
        }
        const canary = passedEachStep(second);
        assert.equal(canary.stable, first.status.releaseId);
        const verdict = canary.verdict!;
        assert.equal(verdict.baseline, 'stable');
        assert.equal(verdict.alpha, 0.001);
        assert.deepEqual(
          verdict.checks.map((c) => c.check),
          ['health', 'error-ceiling', 'errors', 'latency'],
          'every check carries its evidence',
        );
        for (const d of canary.decided)
          assert.ok(d.canaryRequests >= 20, `step ${d.weight} % served its minimum`);
        assert.equal(
          (await environmentStatus(s.home, { app: 'saas-app', name: 'production' })).current,
          second.status.releaseId,
          'after its last step the canary serves every customer',
        );
        assert.match(second.status.stages['canary-production']!.summary ?? '', /25 % pass → 50 % pass/);
      } finally {
        await loop.stop();
      }
    });
  });

  it('a long window continues as new: its evidence carried across runs, the release history small, the live progress in tollgate status', async (t) => {
    const s = await setup('canary-soak');
    const eventsPerRun = 120;
    const chain = await production(
      canaryPlan({
        stepMinMs: 15_000,
        eventsPerRun,
        probes: { ratePerSecond: 300, routes: ['/api/insights?q=pricing'] },
      }),
    );
    await s.worker.runUntil(async () => {
      const loop = customers(chain);
      try {
        await (await start(s, '1', chain, 'first')).result();
        const handle = await start(s, '2', chain, 'second');
        // While the window runs, the release's own copy of its progress is as of the window's start:
        // the live readings come from the window's workflow through queryStatus.
        let live = 0;
        const seen = new Set<string>();
        for (let i = 0; i < 900 && live < 20; i++) {
          const canary = (await queryStatus(handle)).environments.production?.canary;
          if (canary) seen.add(`${canary.state} ${canary.weight} % ${canary.readings}`);
          if (canary?.window && canary.state === 'running') live = Math.max(live, canary.readings);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(live >= 20, `tollgate status showed ${live} live readings: ${[...seen].join(', ')}`);
        const second = await handle.result();
        const canary = passedEachStep(second);
        const windowId = `canary-${second.status.releaseId}-production-1`;
        const { runs, events: windows } = await windowHistory(env.client, windowId);
        assert.ok(runs.length >= 3, `the window ran as ${runs.length} runs: ${JSON.stringify(runs)}`);
        for (const run of runs)
          assert.ok(
            run.events <= eventsPerRun + 40,
            `a run held ${run.events} events (limit ${eventsPerRun})`,
          );
        const release = (await handle.fetchHistory()).events?.length ?? 0;
        assert.ok(release < windows, `the release holds ${release} events, its window ${windows}`);
        // The comparison's exposure spans every run: a state lost at continue-as-new would count only the last.
        const errors = canary.verdict!.checks.find((c) => c.check === 'errors')!.evidence;
        assert.equal(errors.kind, 'sequential');
        const served = canary.decided.reduce((sum, d) => sum + d.canaryRequests, 0);
        assert.ok(
          errors.kind === 'sequential' && errors.canary.exposure >= 0.9 * served,
          `the errors comparison saw ${errors.kind === 'sequential' ? errors.canary.exposure : '?'} canary requests of ${served}`,
        );
        t.diagnostic(
          `window runs ${runs.map((r) => r.events).join(' + ')} events; release ${release} events`,
        );
        recordHistory(env, handle.workflowId, 'release-canary');
        recordHistory(env, windowId, 'canary-window-continued');
      } finally {
        await loop.stop();
      }
    });
  });

  it('thin traffic is topped up: with no customers at all, probes bring each step its evidence, and the report says it was synthetic', async () => {
    const s = await setup('canary-probes');
    const chain = await production(
      canaryPlan({ probes: { ratePerSecond: 200, routes: ['/api/insights?q=pricing', '/healthz'] } }),
    );
    await s.worker.runUntil(async () => {
      await (await start(s, '1', chain, 'first')).result();
      const second = await (await start(s, '2', chain, 'second')).result();
      const canary = passedEachStep(second);
      assert.deepEqual(canary.synthetic, { canary: 1, stable: 1 }, 'every request was a probe');
      assert.match(
        canaryLines('production', canary).join('\n'),
        /synthetic \(probes\): canary 100 %, stable 100 %/,
      );
    });
  });

  it('payment probes: Stripe test-mode checkouts and their signed events judge each release on payments, all of them synthetic', async () => {
    const stripe = await startStripeMock();
    try {
      const s = await setup('canary-payments');
      const chain = await production(
        canaryPlan(
          {
            checkoutPath: '/api/checkout',
            probes: {
              ratePerSecond: 100,
              routes: ['/api/insights?q=pricing'],
              payments: { ...PAYMENT_PROBES, ratePerSecond: 20 },
            },
          },
          // Few payments in a test: a failed-payment rate under 5 % is taken as too rare to matter.
          { revenue: true, negligibleRate: 0.05 },
        ),
      );
      const extra = { releaseEnv: { STRIPE_API_BASE: stripe.url } };
      await s.worker.runUntil(async () => {
        await (await start(s, '1', chain, 'first', extra)).result();
        const canary = passedEachStep(await (await start(s, '2', chain, 'second', extra)).result());
        const checks = canary.verdict!.checks;
        const stop = checks.find((c) => c.check === 'checkout-stop');
        assert.equal(stop?.reason, 'revenue-seen', stop?.detail);
        const payments = checks.find((c) => c.check === 'failed-payments');
        assert.equal(payments?.outcome, 'pass', payments?.detail);
        assert.ok(
          payments?.evidence.kind === 'sequential' && payments.evidence.canary.exposure > 0,
          'the canary had payment attempts',
        );
        assert.deepEqual(canary.synthetic?.payments, { canary: 1, stable: 1 }, 'every payment was a probe');
        assert.equal(canary.paymentProbesOff, undefined, 'a test key: the payment probes ran');
        assert.match(canaryLines('production', canary).join('\n'), /payments: canary 100 %, stable 100 %/);
      });
    } finally {
      stripe.process.kill('SIGKILL');
    }
  });

  it('a canary with a 5xx rise fails at its first step: every customer back on the stable release, the reason machine-readable', async () => {
    const s = await setup('canary-fail');
    const chain = await production(canaryPlan());
    await s.worker.runUntil(async () => {
      const loop = customers(chain);
      try {
        const stable = await (await start(s, '1', chain, 'stable')).result();
        const handle = await start(s, '2', chain, 'faulty', { releaseEnv: { SAAS_FAULT: 'errors' } });
        const failure = await failureOf(handle);
        assert.equal(failure.type, FailureType.VerificationBreach, failure.message);
        assert.match(failure.message, /canary of production failed at 25 % \[error-(rise|ceiling)\]/);
        const status = await queryStatus(handle);
        assert.equal(status.phase, 'rolled-back');
        const rollback = status.audit.find((e) => e.action === 'auto-rollback');
        assert.ok(rollback?.reasonCode?.startsWith('error-'), JSON.stringify(rollback));
        assert.deepEqual(
          status.compensations.map((c) => [c.name, c.ok]),
          [
            ['clear canary of production', true],
            ['restore production', true],
            ['discard artifact', true],
          ],
        );
        const production = await environmentStatus(s.home, { app: 'saas-app', name: 'production' });
        assert.equal(production.current, stable.status.releaseId, 'the stable release serves on');
      } finally {
        await loop.stop();
      }
    });
  });

  it('an inconclusive step takes the declared default (pause): promote goes on, rollback ends it', async () => {
    const s = await setup('canary-pause');
    // No step can serve a billion requests: each ends inconclusive and pauses for a person.
    const stableChain = await production(canaryPlan());
    const pausing = canaryPlan({ stepMaxMs: 1500 }, { minRequestsPerStep: 1e9, onInconclusive: 'pause' });
    const chain = [{ ...stableChain[0]!, canary: pausing }];
    await s.worker.runUntil(async () => {
      const loop = customers(chain);
      try {
        await (await start(s, '1', stableChain, 'stable')).result();
        const handle = await start(s, '2', chain, 'paused');
        await waitForPhase(handle, 'awaiting-promotion');
        let status = await queryStatus(handle);
        assert.equal(status.environments.production!.canary!.state, 'paused');
        assert.equal(status.environments.production!.canary!.weight, 25);
        const paused = status.environments.production!.canary!.decided.at(-1);
        assert.deepEqual([paused?.outcome, paused?.action], ['inconclusive', 'pause']);
        await handle.executeUpdate(promoteUpdate, { args: [{ by: 'alice', reason: 'looks fine' }] });
        // The next step runs, and pauses the same way.
        for (;;) {
          status = await queryStatus(handle);
          const weight: number = status.environments.production!.canary!.weight;
          if (status.phase === 'awaiting-promotion' && weight === 50) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', reason: 'not enough traffic' }] });
        const failure = await failureOf(handle);
        assert.equal(failure.type, FailureType.RolledBack);
        assert.match(failure.message, /paused canary of production \([a-z-]+\) by alice/);
      } finally {
        await loop.stop();
      }
    });
  });

  it("an operator's rollback mid-window cancels the window's workflow and puts every customer back on the stable release", async () => {
    const s = await setup('canary-stop');
    // The first release has no customers yet: probes bring its evidence.
    const first = await production(canaryPlan({ probes: { ratePerSecond: 100, routes: ['/healthz'] } }));
    const chain = [{ ...first[0]!, canary: canaryPlan({ stepMinMs: 120_000, stepMaxMs: 240_000 }) }];
    await s.worker.runUntil(async () => {
      const stable = await (await start(s, '1', first, 'stable')).result();
      // Customers from when production serves: none of their requests may fail from here on.
      const loop = customers(chain);
      try {
        const handle = await start(s, '2', chain, 'stopped');
        let window: string | undefined;
        for (let i = 0; i < 600 && !window; i++) {
          const canary = (await queryStatus(handle)).environments.production?.canary;
          if (canary?.window && canary.readings >= 3) window = canary.window;
          else await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok(window, 'the window ran and was read live');
        await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', reason: 'pager went off' }] });
        const failure = await failureOf(handle);
        assert.equal(failure.type, FailureType.RolledBack);
        assert.match(failure.message, /during the canary of production by alice: pager went off/);
        const described = await env.client.workflow.getHandle(window).describe();
        assert.equal(
          described.status.name,
          'CANCELLED',
          "the window's workflow was cancelled, not left running",
        );
        assert.equal(await servedIn(s.home, 'production'), stable.status.releaseId);
        const served = await environmentStatus(s.home, { app: 'saas-app', name: 'production' });
        assert.equal(served.canary, null, 'no customer left on the canary');
      } finally {
        const { failed } = await loop.stop();
        assert.deepEqual(failed, [], 'no customer request failed');
      }
    });
  });

  it('evidence unavailable (its Prometheus down) never rolls back: the window waits, then takes the default (pause)', async () => {
    const s = await setup('canary-unavailable');
    const chain = await production(
      canaryPlan(
        {
          unavailableMaxMs: 1500,
          // Port 9 (discard) is closed on loopback: a Prometheus that is down.
          external: [
            {
              name: 'queue-depth',
              url: 'http://127.0.0.1:9',
              query: 'queue_depth{release="$release"}',
              max: 10,
            },
          ],
        },
        { onInconclusive: 'pause', external: [{ name: 'queue-depth', max: 10 }] },
      ),
    );
    await s.worker.runUntil(async () => {
      const loop = customers(chain);
      try {
        const handle = await start(s, '1', chain, 'first');
        await waitForPhase(handle, 'awaiting-promotion');
        const status = await queryStatus(handle);
        const canary = status.environments.production!.canary!;
        assert.equal(canary.state, 'paused');
        assert.equal(canary.verdict?.outcome, 'unavailable');
        assert.equal(canary.verdict?.reason, 'evidence-unavailable');
        assert.match(JSON.stringify(canary.verdict?.checks), /did not answer/);
        assert.equal(
          status.audit.filter((e) => e.action === 'auto-rollback').length,
          0,
          'unavailable evidence is never a fail',
        );
        await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', reason: 'monitoring is down' }] });
        assert.equal((await failureOf(handle)).type, FailureType.RolledBack);
      } finally {
        await loop.stop();
      }
    });
  });

  it('a worker SIGKILLed mid-window: a new worker reaches the verdict, the traffic of the gap counted, nothing deployed twice', async () => {
    const s = await setup('canary-crash');
    const plan = canaryPlan({ steps: [25] });
    const chain = await production(plan);
    const startWorker = (): ChildProcess => {
      const child = spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
        env: {
          ...process.env,
          ...APP_SECRETS,
          ...temporalEnv(env),
          TOLLGATE_TASK_QUEUE: `${s.taskQueue}-process`,
          TOLLGATE_HOME: s.home,
          TOLLGATE_CACHE_DIR: TEST_CACHE_DIR,
          TOLLGATE_RUNNER: 'host',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      workers.push(child);
      return child;
    };
    const startOn = (id: string, label: string, extra: Partial<ReleaseInput> = {}) =>
      env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
        taskQueue: `${s.taskQueue}-process`,
        workflowId: `${s.workflowId}-${id}`,
        args: [sampleInput(sampleCommit(s.repo, label), chain, { heartbeatTimeoutMs: 2000, ...extra })],
      });
    // The in-process worker polls another queue; running it lets the server's teardown close its connection.
    await s.worker.runUntil(async () => {
      const first = startWorker();
      const loop = customers(chain);
      const stable = await (await startOn('1', 'stable')).result().finally(() => loop.stop());
      // No traffic yet: the window cannot decide before the kill.
      const handle = await startOn('2', 'faulty', { releaseEnv: { SAAS_FAULT: 'errors' } });
      for (;;) {
        const status = await queryStatus(handle);
        if ((status.environments.production?.canary?.readings ?? 0) >= 3) break;
        if (['failed', 'rolled-back', 'succeeded'].includes(status.phase))
          assert.fail(`ended early: ${status.failure}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      // Customers arrive while no worker reads: the proxy keeps counting for each release.
      const gap = customers(chain);
      try {
        await new Promise((resolve) => setTimeout(resolve, 3000));
        startWorker();
        const failure = await failureOf(handle);
        assert.equal(failure.type, FailureType.VerificationBreach, failure.message);
        assert.match(failure.message, /failed at 25 % \[error-(rise|ceiling)\]/);
      } finally {
        await gap.stop();
      }
      const status = await queryStatus(handle);
      assert.equal(status.audit.filter((e) => e.action === 'auto-rollback').length, 1);
      const served = await environmentStatus(s.home, { app: 'saas-app', name: 'production' });
      assert.equal(served.current, stable.status.releaseId);
      assert.equal(served.canary, null, 'every customer back on the stable release');
      const deployed = served.history.filter(
        (h) => h.event === 'deployed' && h.releaseId === status.releaseId,
      );
      assert.ok(deployed.length <= 1, `the canary was deployed once (${deployed.length} deploy entries)`);
      assert.equal(
        status.stages['deploy-to-production']?.attempts,
        1,
        'the deploy completed before the kill and did not run again',
      );
    });
  });

  it('a load test gates the promotion: a healthy release passes with its figures, a slow one fails on p95 and staging is put back', async () => {
    const s = await setup('load-test');
    const [staging] = await sampleChain();
    const chain: EnvironmentLink[] = [
      {
        ...staging!,
        loadTest: {
          ratePerSecond: 100,
          durationMs: 3000,
          connections: 8,
          routes: ['/api/insights?q=pricing', '/healthz'],
          maxP95LatencyMs: 500,
          maxErrorRate: 0.01,
        },
      },
    ];
    await s.worker.runUntil(async () => {
      const good = await (await start(s, '1', chain, 'good')).result();
      const summary = good.status.stages['load-test-staging']?.summary ?? '';
      assert.equal(good.status.stages['load-test-staging']?.state, 'succeeded', good.status.failure);
      assert.match(
        summary,
        /^\d+ requests at \d+\/s \(asked 100\/s\) for 3 s: p50 \d+ ms, p95 \d+ ms \(limit 500 ms\)/,
      );
      const slow = await start(s, '2', chain, 'slow', { releaseEnv: { SAAS_FAULT: 'slow' } });
      const failure = await failureOf(slow);
      assert.equal(failure.type, FailureType.LoadTestFailed, failure.message);
      assert.match(failure.message, /load test of staging: p95 1\d{3} ms is above 500 ms/);
      assert.equal(
        await servedIn(s.home, 'staging'),
        good.status.releaseId,
        'staging serves the good release again',
      );
    });
  });

  it('the rollback brake: after 3 automatic rollbacks in 24 h the lane refuses releases until a person unlocks it', async () => {
    const s = await setup('canary-brake');
    const chain = await production(canaryPlan());
    const brake = { limit: 3, windowMs: 86_400_000 };
    mkdirSync(s.home, { recursive: true });
    const rollback = (i: number, hoursAgo: number): AuditEntry => ({
      at: new Date(Date.now() - hoursAgo * 3_600_000).toISOString(),
      workflowId: `release-saas-app-${i}`,
      app: 'saas-app',
      action: 'auto-rollback',
      by: 'tollgate',
      reason: 'canary at 25 %: 5xx rose',
      reasonCode: 'error-rise',
      releaseId: `saas-app-${i}`,
      outcome: 'accepted',
    });
    // Two within the window, one older than it, then a third within it: three count.
    const trail = [rollback(1, 30), rollback(2, 5), rollback(3, 2), rollback(4, 1)];
    appendFileSync(join(s.home, 'audit.jsonl'), trail.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await s.worker.runUntil(async () => {
      const refused = await start(s, '1', chain, 'braked', { rollbackBrake: brake });
      const failure = await failureOf(refused);
      assert.equal(failure.type, FailureType.LaneBraked);
      assert.match(failure.message, /3 automatic rollbacks within 24 h \(limit 3/);
      assert.match(failure.message, /tollgate lane unlock saas-app/);
      const status = await queryStatus(refused);
      assert.equal(status.stages['build-production-image']?.state, 'skipped', 'nothing ran');

      const unlock = await env.client.workflow.execute<typeof laneUnlock>('laneUnlock', {
        taskQueue: s.taskQueue,
        workflowId: `${s.workflowId}-unlock`,
        args: [{ app: 'saas-app', by: 'alice', reason: 'fixed in the next commit', approvers: ['alice'] }],
      });
      assert.equal(unlock.action, 'lane-unlock');
      const refusedUnlock = await env.client.workflow
        .execute<typeof laneUnlock>('laneUnlock', {
          taskQueue: s.taskQueue,
          workflowId: `${s.workflowId}-unlock-mallory`,
          args: [{ app: 'saas-app', by: 'mallory', reason: 'let me', approvers: ['alice'] }],
        })
        .then(
          () => assert.fail('a non-approver cannot unlock'),
          (e: unknown) => e,
        );
      assert.ok(refusedUnlock instanceof WorkflowFailedError);

      const loop = customers(chain);
      try {
        const released = await (await start(s, '2', chain, 'unlocked', { rollbackBrake: brake })).result();
        assert.equal(released.outcome, 'succeeded', released.status.failure);
      } finally {
        await loop.stop();
      }
    });
  });
});
