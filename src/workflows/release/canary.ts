/**
 * The canary window of one environment (issue 18): the deployed release takes each step's share of
 * customers in turn (sticky per customer, at the environment's proxy) while the stable release
 * serves the rest; every interval the proxy's cumulative per-release counters are read and judged
 * by src/verification, whose false-alarm rate holds although it is checked at every interval. A
 * step advances once its verdict passes and it has served its minimum time; a fail rolls back at
 * once; an inconclusive step that runs out of time takes the plan's `onInconclusive` (extend once,
 * roll back, or pause for a person's promote or rollback). After the last step the release takes
 * the whole environment.
 *
 * A first release has nothing to split traffic with: it takes the environment at once and is judged
 * on absolute limits over one step at 100 %, its status saying it has no baseline.
 *
 * Durable by construction: the counters are cumulative, so after a worker kill or a server restart
 * the next reading covers the gap, and the verdict, a pure function of the readings, comes out the
 * same on replay.
 */
import { ApplicationFailure, CancellationScope, isCancellation, log } from '@temporalio/workflow';
import { compensation } from '../../constants.js';
import { FailureType } from '../../failures.js';
import type { CanaryDecision, CanaryPlan, CanaryProgress, EnvironmentLink, ReleaseRef } from '../../types.js';
import { judge, Outcome, type Reading, type Verdict } from '../../verification/index.js';
import { compensationActivities, environmentActivities, probeActivities } from '../stages.js';
import { rolledBack, type ReleaseRun } from './run.js';

/** Step decisions kept in the status (the latest verdict keeps its full evidence apart). */
const STATUS_DECISIONS = 20;

/**
 * Runs the window of `link` for `release` (deployed and healthy, not yet serving). `stable` is the
 * release serving the environment now, or null for a first release. Returns once the release
 * serves every customer; throws a VerificationBreach (with the verdict's reason code) or a
 * RolledBack failure.
 */
export async function canaryWindow(
  run: ReleaseRun,
  link: EnvironmentLink,
  plan: CanaryPlan,
  release: ReleaseRef,
  canaryUrl: string,
  stable: string | null,
): Promise<void> {
  const { environment } = link;
  const name = environment.name;
  const acts = environmentActivities(`canary of ${name}: ${release.releaseId}`);
  const weights = stable ? plan.steps : [100];
  const progress: CanaryProgress = {
    steps: weights,
    step: 0,
    weight: weights[0] ?? 100,
    stepStartedAt: new Date().toISOString(),
    stable,
    state: 'running',
    decided: [],
    readings: 0,
  };
  (run.status.environments[name] ??= {}).canary = progress;
  run.gate.watch(link);
  run.phase('verifying', name);

  if (stable) {
    // Newest undo first: every customer back on the stable release before the deploy's own undo retires the canary.
    run.saga.push(compensation.clearCanary(name), () =>
      compensationActivities(compensation.clearCanary(name)).clearCanary({ environment }),
    );
  } else {
    await acts.activateRelease({ environment, releaseId: release.releaseId });
  }

  const readings: Reading[] = [];
  const read = (step: number, weight: number): Promise<Reading> =>
    acts.readCanary({
      environment,
      canary: { releaseId: release.releaseId, url: canaryUrl },
      step,
      weight,
      ...(plan.external.length > 0 ? { external: plan.external } : {}),
      ...(plan.checkoutPath ? { revenue: true } : {}),
    });
  const stopIfAsked = async (ms: number): Promise<void> => {
    const rollback = await run.gate.rollbackRequested(ms);
    if (rollback) {
      progress.state = 'stopped';
      throw rolledBack(
        `during the canary of ${name} by ${rollback.by}${rollback.reason ? `: ${rollback.reason}` : ''}`,
      );
    }
  };

  for (let step = 0; step < weights.length; step++) {
    const weight = weights[step]!;
    if (stable) {
      await acts.setCanary({
        environment,
        releaseId: release.releaseId,
        weight,
        ...(Object.keys(plan.sticky).length > 0 ? { sticky: plan.sticky } : {}),
        ...(plan.checkoutPath ? { checkoutPath: plan.checkoutPath } : {}),
      });
    }
    const startedAt = Date.now();
    Object.assign(progress, { step, weight, stepStartedAt: new Date(startedAt).toISOString() });
    const probes = plan.probes ? startProbes(link, plan, step) : undefined;
    try {
      // The step's first reading marks where its traffic starts: the verdict counts from there.
      readings.push(await read(step, weight));
      progress.readings = readings.length;
      run.show();
      let endsAt = startedAt + plan.stepMaxMs;
      let extended = false;
      let unavailableSince: number | undefined;
      for (;;) {
        await stopIfAsked(plan.intervalMs);
        readings.push(await read(step, weight));
        const now = Date.now();
        let verdict = judge({ plan: plan.verdict, readings, windowEnded: now >= endsAt });
        if (verdict.outcome === Outcome.Unavailable) {
          unavailableSince ??= now;
          // Evidence that cannot be read is never a fail: it waits up to its limit, then takes the declared default.
          if (now - unavailableSince >= plan.unavailableMaxMs) {
            verdict = { ...verdict, action: plan.verdict.onInconclusive };
          }
        } else {
          unavailableSince = undefined;
        }
        Object.assign(progress, { verdict, readings: readings.length, synthetic: syntheticShare(readings) });
        run.show();
        if (verdict.action === 'advance' && now - startedAt >= plan.stepMinMs) {
          decide(progress, verdict, readings);
          break;
        }
        if (verdict.action === 'rollback') {
          decide(progress, verdict, readings);
          progress.state = 'failed';
          return breach(run, name, verdict);
        }
        if (verdict.action === 'extend' && !extended) {
          extended = true;
          endsAt = now + plan.stepMaxMs;
          log.info('canary step extended', { environment: name, step, reason: verdict.reason });
          continue;
        }
        if (verdict.action === 'pause' || verdict.action === 'extend') {
          decide(progress, verdict, readings);
          if (await pause(run, link, progress, verdict)) break;
        }
      }
    } finally {
      await probes?.stop();
    }
  }

  if (stable) await acts.activateRelease({ environment, releaseId: release.releaseId });
  progress.state = 'passed';
  run.show();
}

/** Starts the step's probe generator; `stop()` cancels it and waits for it (it never fails the release). */
function startProbes(link: EnvironmentLink, plan: CanaryPlan, step: number): { stop: () => Promise<void> } {
  const { environment } = link;
  const probes = plan.probes!;
  const scope = new CancellationScope();
  const running = scope
    .run(() =>
      probeActivities(
        `probes for the canary of ${environment.name}, step ${step + 1}`,
        plan.stepMaxMs * 2,
      ).probeCanary({
        environment,
        routes: probes.routes,
        ratePerSecond: probes.ratePerSecond,
        durationMs: plan.stepMaxMs * 2,
      }),
    )
    .then(
      (report) => log.info('canary probes done', { environment: environment.name, step, ...report }),
      (error: unknown) => {
        if (!isCancellation(error))
          log.warn('canary probes failed', { environment: environment.name, step, error: String(error) });
      },
    );
  return {
    stop: async () => {
      scope.cancel();
      await running;
    },
  };
}

/** The synthetic share of each release's requests over the window (first reading to latest). */
function syntheticShare(readings: readonly Reading[]): CanaryProgress['synthetic'] {
  const first = readings[0]!;
  const last = readings[readings.length - 1]!;
  const share = (
    now: { requests: number; synthetic?: number },
    then?: { requests: number; synthetic?: number },
  ): number => {
    const requests = now.requests - (then?.requests ?? 0);
    return requests > 0 ? ((now.synthetic ?? 0) - (then?.synthetic ?? 0)) / requests : 0;
  };
  return {
    canary: share(last.canary, first.canary),
    stable: last.stable ? share(last.stable, first.stable) : null,
  };
}

/** Records the verdict that ended a step (kept short: the full evidence is the latest verdict's). */
function decide(progress: CanaryProgress, verdict: Verdict, readings: readonly Reading[]): void {
  const latest = readings[readings.length - 1]!;
  const entry: CanaryDecision = {
    at: new Date().toISOString(),
    step: verdict.step,
    weight: verdict.weight,
    outcome: verdict.outcome,
    action: verdict.action,
    reason: verdict.reason,
    detail: verdict.detail,
    canaryRequests: verdict.stepRequests,
    stableRequests: latest.stable ? latest.stable.requests : null,
  };
  progress.decided = [...progress.decided.slice(-(STATUS_DECISIONS - 1)), entry];
}

/** A failed verdict: audited with its machine-readable reason, then the window ends with a breach. */
function breach(run: ReleaseRun, name: string, verdict: Verdict): never {
  run.audit({
    action: 'auto-rollback',
    by: 'tollgate',
    reason: `canary at ${verdict.weight} %: ${verdict.detail}`,
    reasonCode: verdict.reason,
    outcome: 'accepted',
    environment: name,
  });
  throw ApplicationFailure.create({
    type: FailureType.VerificationBreach,
    message: `the canary of ${name} failed at ${verdict.weight} % [${verdict.reason}]: ${verdict.detail}`,
    nonRetryable: true,
    details: [{ reason: verdict.reason, step: verdict.step, weight: verdict.weight }],
  });
}

/**
 * An inconclusive step waits for a person: promote goes on to the next step, rollback (or the
 * gate's timeout, which for a paused canary always rolls back) ends the window. True to advance.
 */
async function pause(
  run: ReleaseRun,
  link: EnvironmentLink,
  progress: CanaryProgress,
  verdict: Verdict,
): Promise<boolean> {
  const name = link.environment.name;
  progress.state = 'paused';
  run.phase('awaiting-promotion', name);
  run.notify({
    kind: 'gate-waiting',
    app: run.input.app,
    releaseId: run.status.releaseId ?? '',
    ref: run.input.source.commit,
    environment: name,
    approvers: link.promotion.approvers,
    timeoutAt: new Date(Date.now() + link.promotion.timeoutMs).toISOString(),
    onTimeout: 'rollback',
  });
  const decision = await run.gate.decide({
    ...link,
    promotion: { ...link.promotion, mode: 'manual', onTimeout: 'rollback' },
  });
  if (decision.action === 'rollback') {
    progress.state = 'stopped';
    throw rolledBack(
      `at the paused canary of ${name} (${verdict.reason}) by ${decision.by}${decision.reason ? `: ${decision.reason}` : ''}`,
    );
  }
  progress.state = 'running';
  run.gate.watch(link);
  run.phase('verifying', name);
  return true;
}
