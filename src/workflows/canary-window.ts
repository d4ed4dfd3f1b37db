/**
 * The canary window of one environment, as a child workflow of the release (issue 18): the deployed
 * release takes each step's share of customers in turn (sticky per customer, at the environment's
 * proxy) while the stable release serves the rest; every interval the proxy's cumulative
 * per-release counters are read, folded into the window's state and judged by src/verification,
 * whose false-alarm rate holds although it is checked at every interval. A step advances once its
 * verdict passes and it has served its minimum time; a fail ends the window at once; an
 * inconclusive step that runs out of time extends once, or ends the window for the release to act
 * on (`onInconclusive`: roll back, or pause for a person).
 *
 * Its own workflow so that a long soak costs the release a handful of history events: the window's
 * history grows with its readings, and once it holds `eventsPerRun` events the window continues as
 * new, carrying the folded verdict state (never the readings), the step's clock and the progress.
 * The release cancels it to roll back on an operator's request, and owns every change an undo
 * needs (activation, compensations, the audit trail): the window only moves weights and reads.
 *
 * Durable by construction: the counters are cumulative, so after a worker kill or a server restart
 * the next reading covers the gap, and the verdict, a pure function of the folded readings, comes
 * out the same on replay.
 */
import {
  CancellationScope,
  continueAsNew,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  CanaryDecision,
  CanaryPlan,
  CanaryProgress,
  EnvironmentPlan,
  PaymentProbePlan,
} from '../types.js';
import {
  Outcome,
  addReading,
  judgeWindow,
  portableWindow,
  restoreWindow,
  startWindow,
  type PortableWindow,
  type Reading,
  type Verdict,
  type WindowState,
} from '../verification/index.js';
import { canaryQuery } from './messages.js';
import { environmentActivities, probeActivities } from './stages.js';
import { canaryLines } from './ui.js';

/** History events a window's run holds before it continues as new, unless its plan says otherwise. */
export const CANARY_EVENTS_PER_RUN = 2000;

/** Step decisions kept in the progress (the latest verdict keeps its full evidence apart). */
const PROGRESS_DECISIONS = 20;

/** A step's clock, in workflow time (ms since the epoch). */
export interface StepClock {
  startedAt: number;
  /** When an inconclusive step takes `onInconclusive` (moved once by an extension). */
  endsAt: number;
  extended: boolean;
  /** Since when the evidence has been unavailable, while it is. */
  unavailableSince?: number;
}

/** Where a window goes on from. */
export interface CanaryResume {
  /** The step to run (0-based into the progress's steps). */
  step: number;
  /** The step is under way already (a continue-as-new): its weight is set and its clock runs. */
  running?: StepClock;
  /** Every reading so far, folded; null before the first. */
  window: PortableWindow | null;
}

/** The window workflow's input. */
export interface CanaryWindowInput {
  environment: EnvironmentPlan;
  plan: CanaryPlan;
  releaseId: string;
  canaryUrl: string;
  /** The release serving the environment now, or null for a first release (one step at 100 %). */
  stable: string | null;
  progress: CanaryProgress;
  resume: CanaryResume;
}

/** How a window ended: every step passed, a verdict failed, or an inconclusive step waits for a person. */
export type CanaryWindowResult =
  | { outcome: 'passed'; progress: CanaryProgress }
  | { outcome: 'failed'; progress: CanaryProgress; verdict: Verdict }
  | { outcome: 'paused'; progress: CanaryProgress; verdict: Verdict; resume: CanaryResume };

/** Runs (or goes on with) the window; see the module comment. */
export async function canaryWindow(input: CanaryWindowInput): Promise<CanaryWindowResult> {
  const { environment, plan, releaseId, canaryUrl, stable, progress } = input;
  const name = environment.name;
  const acts = environmentActivities(`canary of ${name}: ${releaseId}`);
  setHandler(canaryQuery, () => progress);
  // Not a command: the UI reads the details through a query, so refreshing them costs no history.
  const show = (): void => setCurrentDetails(canaryLines(name, progress, '**').join('\n'));
  let window: WindowState | null = input.resume.window ? restoreWindow(input.resume.window) : null;
  const read = async (step: number, weight: number): Promise<WindowState> => {
    const reading: Reading = await acts.readCanary({
      environment,
      canary: { releaseId, url: canaryUrl },
      step,
      weight,
      ...(plan.external.length > 0 ? { external: plan.external } : {}),
      ...(plan.checkoutPath ? { revenue: true } : {}),
    });
    window = window ? addReading(plan.verdict, window, reading) : startWindow(plan.verdict, reading);
    return window;
  };
  const tooLong = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= (plan.eventsPerRun ?? CANARY_EVENTS_PER_RUN);
  };
  // Stripe test-mode payments only where the released app's Stripe key is a test key (the worker knows).
  let payments = plan.probes?.payments;
  if (payments) {
    const { refused } = await acts.paymentProbesAllowed({ environment, payments });
    delete progress.paymentProbesOff;
    if (refused) {
      progress.paymentProbesOff = refused;
      payments = undefined;
    }
  }
  show();

  for (let step = input.resume.step; step < progress.steps.length; step++) {
    const weight = progress.steps[step]!;
    let clock = step === input.resume.step ? input.resume.running : undefined;
    const resumed = clock !== undefined;
    if (!clock) {
      if (stable) {
        // Not cancellable: a weight change still in flight when the release rolls back would land
        // after its clear-canary undo. A cancel waits for it instead.
        await CancellationScope.nonCancellable(() =>
          acts.setCanary({
            environment,
            releaseId,
            weight,
            ...(Object.keys(plan.sticky).length > 0 ? { sticky: plan.sticky } : {}),
            ...(plan.checkoutPath ? { checkoutPath: plan.checkoutPath } : {}),
          }),
        );
      }
      const startedAt = Date.now();
      clock = { startedAt, endsAt: startedAt + plan.stepMaxMs, extended: false };
      Object.assign(progress, { step, weight, stepStartedAt: new Date(startedAt).toISOString() });
    }
    const probes = plan.probes ? startProbes(environment, plan, step, payments) : undefined;
    try {
      // The step's first reading marks where its traffic starts: its requests count from there.
      if (!resumed) progress.readings = (await read(step, weight)).readings;
      show();
      for (;;) {
        if (tooLong()) {
          await probes?.stop();
          log.info('canary window continues as new', {
            environment: name,
            step,
            readings: progress.readings,
          });
          return await continueAsNew<typeof canaryWindow>({
            ...input,
            progress,
            resume: { step, running: clock, window: portableWindow(window!) },
          });
        }
        await sleep(plan.intervalMs);
        const state = await read(step, weight);
        const now = Date.now();
        let verdict = judgeWindow(plan.verdict, state, now >= clock.endsAt);
        if (verdict.outcome === Outcome.Unavailable) {
          clock.unavailableSince ??= now;
          // Evidence that cannot be read is never a fail: it waits up to its limit, then takes the declared default.
          if (now - clock.unavailableSince >= plan.unavailableMaxMs) {
            verdict = { ...verdict, action: plan.verdict.onInconclusive };
          }
        } else {
          delete clock.unavailableSince;
        }
        Object.assign(progress, { verdict, readings: state.readings, synthetic: syntheticShare(state) });
        show();
        if (verdict.action === 'advance' && now - clock.startedAt >= plan.stepMinMs) {
          decide(progress, verdict, state);
          break;
        }
        if (verdict.action === 'rollback') {
          decide(progress, verdict, state);
          progress.state = 'failed';
          show();
          return { outcome: 'failed', progress, verdict };
        }
        if (verdict.action === 'extend' && !clock.extended) {
          clock = { ...clock, extended: true, endsAt: now + plan.stepMaxMs };
          log.info('canary step extended', { environment: name, step, reason: verdict.reason });
          continue;
        }
        if (verdict.action === 'pause' || verdict.action === 'extend') {
          decide(progress, verdict, state);
          progress.state = 'paused';
          show();
          return {
            outcome: 'paused',
            progress,
            verdict,
            resume: { step: step + 1, window: portableWindow(state) },
          };
        }
      }
    } finally {
      await probes?.stop();
    }
  }
  progress.state = 'passed';
  show();
  return { outcome: 'passed', progress };
}

/**
 * Starts the step's probe generator, with `payments` where they may run; `stop()` cancels it and
 * waits for it (it never fails the window).
 */
function startProbes(
  environment: EnvironmentPlan,
  plan: CanaryPlan,
  step: number,
  payments: PaymentProbePlan | undefined,
): { stop: () => Promise<void> } {
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
        ...(payments ? { payments } : {}),
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
function syntheticShare(window: WindowState): CanaryProgress['synthetic'] {
  const { first, latest } = window;
  const share = (
    now: { requests: number; synthetic?: number },
    then?: { requests: number; synthetic?: number },
  ): number => {
    const requests = now.requests - (then?.requests ?? 0);
    return requests > 0 ? ((now.synthetic ?? 0) - (then?.synthetic ?? 0)) / requests : 0;
  };
  const payments = (now: Reading['canary'], then?: Reading['canary']): number =>
    now.revenue
      ? share(
          { requests: now.revenue.paymentAttempts, synthetic: now.revenue.synthetic ?? 0 },
          then?.revenue
            ? { requests: then.revenue.paymentAttempts, synthetic: then.revenue.synthetic ?? 0 }
            : undefined,
        )
      : 0;
  return {
    canary: share(latest.canary, first.canary),
    stable: latest.stable ? share(latest.stable, first.stable) : null,
    ...(latest.canary.revenue
      ? {
          payments: {
            canary: payments(latest.canary, first.canary),
            stable: latest.stable ? payments(latest.stable, first.stable) : null,
          },
        }
      : {}),
  };
}

/** Records the verdict that ended a step (kept short: the full evidence is the latest verdict's). */
function decide(progress: CanaryProgress, verdict: Verdict, window: WindowState): void {
  const entry: CanaryDecision = {
    at: new Date().toISOString(),
    step: verdict.step,
    weight: verdict.weight,
    outcome: verdict.outcome,
    action: verdict.action,
    reason: verdict.reason,
    detail: verdict.detail,
    canaryRequests: verdict.stepRequests,
    stableRequests: window.latest.stable ? window.latest.stable.requests : null,
  };
  progress.decided = [...progress.decided.slice(-(PROGRESS_DECISIONS - 1)), entry];
}
