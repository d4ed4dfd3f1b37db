/**
 * One link of the environment chain, the same code for every environment: the gate before it,
 * the blue/green deploy (the new release starts beside the old one, is checked directly, then
 * takes the traffic), the smoke test through the environment's address, and the verification
 * window. The deploy's undo (restore) goes on the saga as soon as the release is deployed.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { compensation, deliveryStep } from '../../constants.js';
import { FailureType } from '../../failures.js';
import type { EnvironmentLink, ReleaseRef, VerificationPlan } from '../../types.js';
import { describeLoadTest, type LoadTestPlan } from '../../verification/load-test.js';
import {
  compensationActivities,
  environmentActivities,
  imageSmokeActivities,
  loadTestActivities,
} from '../stages.js';
import { runCanaryWindow } from './canary.js';
import { decidedBy } from './gate.js';
import { rolledBack, type ReleaseRun } from './run.js';

/** Takes `release` through the gate before `link` into its environment; throws on a refusal, failure or breach. */
export async function deliver(
  run: ReleaseRun,
  link: EnvironmentLink,
  release: ReleaseRef,
  options: { first: boolean; imageSmoke: boolean },
): Promise<void> {
  const { environment } = link;
  const name = environment.name;
  if (link.promotion.mode === 'manual') run.phase('awaiting-promotion', name);
  else run.phase('deploying', name);
  const deciding = run.gate.decide(link); // sets the gate's status (with timeoutAt) before its first await
  const gate = run.status.environments[name]?.gate;
  if (link.promotion.mode === 'manual' && gate) {
    run.notify({
      kind: 'gate-waiting',
      app: run.input.app,
      releaseId: release.releaseId,
      ref: release.ref,
      environment: name,
      approvers: link.promotion.approvers,
      timeoutAt: gate.timeoutAt,
      onTimeout: link.promotion.onTimeout,
    });
  }
  const decision = await deciding;
  if (decision.action === 'rollback') {
    throw rolledBack(`at the gate before ${name} ${decidedBy(decision)}`);
  }

  run.phase('deploying', name);
  const releaseEnv = run.input.releaseEnv ?? {};
  const revenuePath = run.input.revenue?.revenuePath;
  let switchedAt = '';
  let canaryUrl = '';
  const previous = await run.track(
    deliveryStep.deploy(name),
    async () => {
      const acts = environmentActivities(`${deliveryStep.deploy(name)}: ${release.releaseId}`);
      const { deployed, previous, serving } = await acts.deployRelease({ environment, release, releaseEnv });
      run.saga.push(compensation.restore(name), () =>
        compensationActivities(compensation.restore(name)).restoreEnvironment({
          environment,
          previous,
          releaseId: release.releaseId,
        }),
      );
      // Blue/green: checked on its own address before it gets any traffic.
      await acts.checkReleaseHealth({ url: deployed.url, path: environment.healthPath });
      if (link.verification) {
        const baseline = await environmentActivities(`verification baseline of ${name}`).sampleEnvironment({
          environment,
          verification: link.verification,
          since: new Date().toISOString(),
          ...(revenuePath ? { revenuePath } : {}),
        });
        (run.status.environments[name] ??= {}).verification = { baseline, samples: [] };
      }
      // A canary takes its customers step by step in its window; without one, the switch is now.
      // A release that serves already (the same build again) has no canary window: it has all the traffic.
      if (link.canary && !serving) {
        canaryUrl = deployed.url;
        return previous;
      }
      await acts.activateRelease({ environment, releaseId: release.releaseId });
      switchedAt = new Date().toISOString();
      return previous;
    },
    (previous) =>
      link.canary && canaryUrl
        ? `${release.releaseId} deployed beside ${previous ?? 'nothing (a first release)'}, for its canary`
        : `${name} serves ${release.releaseId}${previous ? `; ${previous} kept warm` : ''}`,
  );
  if (previous) run.replacedIn(link);
  if (link.canary && canaryUrl) {
    const plan = link.canary;
    await run.track(
      deliveryStep.canary(name),
      () => runCanaryWindow(run, link, plan, release, canaryUrl, previous),
      () => {
        const decided = run.status.environments[name]?.canary?.decided ?? [];
        const steps = decided.map((d) => `${d.weight} % ${d.outcome}`).join(' → ');
        return `${steps || 'no step'}; ${name} serves ${release.releaseId}${previous ? `; ${previous} kept warm` : ''}`;
      },
    );
    switchedAt = new Date().toISOString();
  }

  if (link.smoke) await smoke(run, link, release, options.imageSmoke);
  if (link.loadTest) await loadTest(run, link, link.loadTest);
  // The first environment is where a release starts; each one after it is a promotion.
  if (!options.first) {
    run.notify({
      kind: 'promoted',
      app: run.input.app,
      releaseId: release.releaseId,
      ref: release.ref,
      environment: name,
      by: decision.by,
    });
  }
  if (link.verification) await verify(run, link, link.verification, release, switchedAt);
}

/** The load test through the environment's address: its p95 and error rate gate the promotion after it. */
async function loadTest(run: ReleaseRun, link: EnvironmentLink, plan: LoadTestPlan): Promise<void> {
  const { environment } = link;
  await run.track(
    deliveryStep.loadTest(environment.name),
    () =>
      loadTestActivities(deliveryStep.loadTest(environment.name), plan.durationMs).loadTest({
        environment,
        plan,
      }),
    (report) => describeLoadTest(report, plan),
  );
}

/** The smoke test through the environment's address; a Dagger build's image gets the same probes in Dagger. */
async function smoke(
  run: ReleaseRun,
  link: EnvironmentLink,
  release: ReleaseRef,
  imageSmoke: boolean,
): Promise<void> {
  const { environment } = link;
  const revenue = link.smoke!.revenueEvents ? run.input.revenue : undefined;
  await run.track(
    deliveryStep.smoke(environment.name),
    async () => {
      const checks = await environmentActivities(deliveryStep.smoke(environment.name)).smokeTest({
        environment,
        smoke: link.smoke!,
        ...(revenue ? { revenue } : {}),
      });
      const { image } = release.artifact;
      const probes =
        image && imageSmoke
          ? await imageSmokeActivities(run.input.buildTaskQueue).smokeTestImage({
              image,
              paths: [environment.healthPath, ...link.smoke!.routes],
              env: { ...environment.env, ...run.input.releaseEnv },
              ...(run.input.images ? { probeImage: run.input.images.probe } : {}),
            })
          : [];
      return { checks, probes };
    },
    ({ checks, probes }) =>
      `${checks.length} checks passed: ${checks.map((c) => c.name).join(', ')}` +
      (probes.length > 0 ? `; image: ${probes.length} probes passed in Dagger` : ''),
  );
}

/** The verification window: samples every interval until it ends; a breach or a rollback request throws. */
async function verify(
  run: ReleaseRun,
  link: EnvironmentLink,
  verification: VerificationPlan,
  release: ReleaseRef,
  switchedAt: string,
): Promise<void> {
  const { environment } = link;
  const name = environment.name;
  const window = (run.status.environments[name] ??= {}).verification ?? { samples: [] };
  run.status.environments[name].verification = window;
  const endsAt = Date.now() + verification.durationMs;
  window.endsAt = new Date(endsAt).toISOString();
  run.gate.watch(link);
  run.phase('verifying', name);
  const revenuePath = run.input.revenue?.revenuePath;
  const sample = environmentActivities(`verification sample of ${name}`);
  const rollbackAfter = async (ms: number): Promise<void> => {
    const rollback = await run.gate.rollbackRequested(ms);
    if (rollback) {
      throw rolledBack(`during verification of ${name} ${decidedBy(rollback)}`);
    }
  };
  while (Date.now() < endsAt) {
    await rollbackAfter(Math.min(verification.intervalMs, Math.max(0, endsAt - Date.now())));
    const reading = await sample.sampleEnvironment({
      environment,
      verification,
      since: switchedAt,
      ...(window.baseline ? { baseline: window.baseline } : {}),
      ...(revenuePath ? { revenuePath } : {}),
    });
    window.samples = [...window.samples.slice(-19), reading];
    run.show();
    if (reading.breach) {
      run.audit({
        action: 'auto-rollback',
        by: 'tollgate',
        reason: `${reading.breach.signal}: ${reading.breach.detail}`,
        outcome: 'accepted',
        environment: name,
      });
      throw ApplicationFailure.create({
        type: FailureType.VerificationBreach,
        message: `verification of ${name} breached ${reading.breach.signal}: ${reading.breach.detail}`,
        nonRetryable: true,
      });
    }
  }
  // A rollback accepted while the last sample was read still counts; after this, the gate refuses.
  await rollbackAfter(0);
  run.gate.close();
}
