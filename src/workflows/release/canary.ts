/**
 * The release's side of a canary window (issue 18). The window itself, steps, readings and
 * verdicts, runs as a child workflow (../canary-window.ts) so that a long soak stays out of the
 * release's history; the release owns what an undo needs: the compensation that puts every customer
 * back on the stable release, the activation after the last step, the audit entry of an automatic
 * rollback, and the person's decision when an inconclusive step pauses (promote starts a new window
 * at the next step, carrying the folded evidence; rollback ends it). An operator's rollback during
 * the window cancels the child and rolls back.
 *
 * A first release has nothing to split traffic with: it takes the environment at once and is judged
 * on absolute limits over one step at 100 %, its status saying it has no baseline.
 */
import { ApplicationFailure, CancellationScope, executeChild } from '@temporalio/workflow';
import { compensation } from '../../constants.js';
import { FailureType } from '../../failures.js';
import type { CanaryPlan, CanaryProgress, EnvironmentLink, ReleaseRef } from '../../types.js';
import type { Verdict } from '../../verification/index.js';
import {
  canaryWindow,
  type CanaryResume,
  type CanaryWindowInput,
  type CanaryWindowResult,
} from '../canary-window.js';
import { compensationActivities, environmentActivities } from '../stages.js';
import { decidedBy } from './gate.js';
import { rolledBack, type ReleaseRun } from './run.js';

/**
 * Runs the window of `link` for `release` (deployed and healthy, not yet serving). `stable` is the
 * release serving the environment now, or null for a first release. Returns once the release
 * serves every customer; throws a VerificationBreach (with the verdict's reason code) or a
 * RolledBack failure.
 */
export async function runCanaryWindow(
  run: ReleaseRun,
  link: EnvironmentLink,
  plan: CanaryPlan,
  release: ReleaseRef,
  canaryUrl: string,
  stable: string | null,
): Promise<void> {
  const { environment } = link;
  const name = environment.name;
  const steps = stable ? plan.steps : [100];
  let progress: CanaryProgress = {
    steps,
    step: 0,
    weight: steps[0] ?? 100,
    stepStartedAt: new Date().toISOString(),
    stable,
    state: 'running',
    decided: [],
    readings: 0,
  };
  const env = (run.status.environments[name] ??= {});
  run.gate.watch(link);
  run.phase('verifying', name);

  if (stable) {
    // Newest undo first: every customer back on the stable release before the deploy's own undo retires the canary.
    run.saga.push(compensation.clearCanary(name), () =>
      compensationActivities(compensation.clearCanary(name)).clearCanary({ environment }),
    );
  } else {
    await environmentActivities(`canary of ${name}: ${release.releaseId}`).activateRelease({
      environment,
      releaseId: release.releaseId,
    });
  }

  let resume: CanaryResume = { step: 0, window: null };
  for (let window = 1; resume.step < steps.length; window++) {
    // Its own id, independent of the release's workflow id: one release's windows, numbered.
    const workflowId = `canary-${release.releaseId}-${name}-${window}`;
    env.canary = { ...progress, window: workflowId };
    run.show();
    const result = await watchWindow(run, name, workflowId, {
      environment,
      plan,
      releaseId: release.releaseId,
      canaryUrl,
      stable,
      progress,
      resume,
    });
    progress = env.canary = result.progress;
    run.show();
    if (result.outcome === 'failed') return breach(run, name, result.verdict);
    if (result.outcome === 'passed') break;
    await pause(run, link, progress, result.verdict);
    resume = result.resume;
  }

  if (stable) {
    await environmentActivities(`canary of ${name}: ${release.releaseId}`).activateRelease({
      environment,
      releaseId: release.releaseId,
    });
  }
  progress.state = 'passed';
  run.show();
}

/** Runs one window child to its end; an operator's rollback meanwhile cancels it and rolls back. */
async function watchWindow(
  run: ReleaseRun,
  name: string,
  workflowId: string,
  input: CanaryWindowInput,
): Promise<CanaryWindowResult> {
  const scope = new CancellationScope();
  const window = scope.run(() =>
    executeChild(canaryWindow, {
      workflowId,
      args: [input],
      staticSummary: `canary of ${name}: ${input.releaseId}`,
    }),
  );
  const first = await Promise.race([
    window.then((result) => ({ result })),
    run.gate.rollbackAsked().then((rollback) => ({ rollback })),
  ]).catch((error: unknown) => {
    // The window could not run to a verdict (an activity out of retries): not live any more.
    const stopped = run.status.environments[name]?.canary;
    if (stopped) stopped.state = 'stopped';
    throw error;
  });
  if ('result' in first) return first.result;
  scope.cancel();
  await window.catch(() => undefined);
  const stopped = run.status.environments[name]?.canary;
  if (stopped) stopped.state = 'stopped';
  throw rolledBack(`during the canary of ${name} ${decidedBy(first.rollback)}`);
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
 * gate's timeout, which for a paused canary always rolls back) ends the window.
 */
async function pause(
  run: ReleaseRun,
  link: EnvironmentLink,
  progress: CanaryProgress,
  verdict: Verdict,
): Promise<void> {
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
    throw rolledBack(`at the paused canary of ${name} (${verdict.reason}) ${decidedBy(decision)}`);
  }
  progress.state = 'running';
  run.gate.watch(link);
  run.phase('verifying', name);
}
