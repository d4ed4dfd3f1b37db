/** Activities that move releases through environments: deploy, switch, restore, smoke, sample, retire. */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context, log } from '@temporalio/activity';
import type { DeployedRelease, Environment, RollbackResult } from '../environments/environment.js';
import { createEnvironment, type EnvironmentPlanArg } from '../environments/index.js';
import { envPaths, LocalEnvironmentError } from '../environments/local/index.js';
import { FailureType } from '../failures.js';
import { reason, request } from '../revenue/http.js';
import { readRevenue, runSmokeChecks, type CheckResult } from '../revenue/smoke.js';
import type {
  AuditEntry,
  EnvironmentPlan,
  ExternalSignalPlan,
  PaymentProbePlan,
  ProbeReport,
  ReleaseRef,
  RevenuePlan,
  SmokePlan,
  VerificationPlan,
  VerificationSample,
} from '../types.js';
import type {
  SmokePlan as SmokePlanV1,
  VerificationPlan as VerificationPlanV1,
} from '../workflows/legacy/types.js';
import { runLoadTest } from './load-test.js';
import {
  describeLoadTest,
  loadTestBreaches,
  type LoadTestPlan,
  type LoadTestReport,
} from '../verification/load-test.js';
import { paymentProbes, topUpTraffic } from './probes.js';
import { readPrometheus } from './prometheus.js';
import { emptyLatency, type Reading, type ReleaseCounters } from '../verification/readings.js';
import { failure } from './failure.js';
import { resolveSecrets } from './secrets.js';

/** What the rollback brake found: the automatic rollbacks that count, and whether they close the lane. */
export interface LaneBrake {
  braked: boolean;
  /** One per run, oldest first: when, which run and release, and the verdict's reason. */
  rollbacks: Pick<AuditEntry, 'at' | 'workflowId' | 'releaseId' | 'reason' | 'reasonCode'>[];
  /** The last `tollgate lane unlock` of the app, if any. */
  unlocked: Pick<AuditEntry, 'at' | 'by' | 'reason'> | null;
}

/** The audit trail's entries; a line that does not parse (a torn write) is skipped. */
export function readAudit(file: string): AuditEntry[] {
  if (!existsSync(file)) return [];
  const entries: AuditEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as AuditEntry);
    } catch {
      // A line cut short by a crash mid-append; the retried append wrote it whole.
    }
  }
  return entries;
}

/** The brake over `entries` (see the laneBrake activity). Pure, for tests. */
export function laneBrakeOf(
  entries: readonly AuditEntry[],
  args: { app: string; limit: number; windowMs: number; at: string },
): LaneBrake {
  const mine = entries.filter((e) => e.app === args.app && e.outcome === 'accepted');
  const unlock = mine
    .filter((e) => e.action === 'lane-unlock')
    .sort((a, b) => a.at.localeCompare(b.at))
    .at(-1);
  const from = Math.max(Date.parse(args.at) - args.windowMs, unlock ? Date.parse(unlock.at) : -Infinity);
  const byRun = new Map<string, LaneBrake['rollbacks'][number]>();
  for (const e of mine) {
    const at = Date.parse(e.at);
    if (e.action !== 'auto-rollback' || !(at > from && at <= Date.parse(args.at))) continue;
    // Readers dedupe retried appends; one run counts once however many entries it wrote.
    if (!byRun.has(e.workflowId + (e.releaseId ?? ''))) {
      byRun.set(e.workflowId + (e.releaseId ?? ''), {
        at: e.at,
        workflowId: e.workflowId,
        ...(e.releaseId ? { releaseId: e.releaseId } : {}),
        reason: e.reason,
        ...(e.reasonCode ? { reasonCode: e.reasonCode } : {}),
      });
    }
  }
  const rollbacks = [...byRun.values()].sort((a, b) => a.at.localeCompare(b.at));
  return {
    braked: rollbacks.length >= args.limit,
    rollbacks,
    unlocked: unlock ? { at: unlock.at, by: unlock.by, reason: unlock.reason } : null,
  };
}

/** `${TOLLGATE_DATA_DIR}` in env values becomes the environment's data directory; TOLLGATE_DATA_DIR is set too. */
export function withDataDir(env: Record<string, string>, dataDir: string): Record<string, string> {
  const out: Record<string, string> = { TOLLGATE_DATA_DIR: dataDir };
  for (const [key, value] of Object.entries(env))
    out[key] = value.split('${TOLLGATE_DATA_DIR}').join(dataDir);
  return out;
}

/** What the environment activities need from the worker. */
export interface EnvironmentDeps {
  home: string;
  secretSource: NodeJS.ProcessEnv;
  /** The driver for an environment; the local driver by default. */
  environmentFor?: (plan: EnvironmentPlan) => Environment;
}

/** An environment plan as activities receive it: the workflow code of 0.1 names no app in it (see envPaths). */
type PlanArg = EnvironmentPlanArg;

/** Builds the environment activities. */
export function createEnvironmentActivities(deps: EnvironmentDeps) {
  // One driver per app and environment: two apps' "staging" are two environments.
  const drivers = new Map<string, Environment>();
  const driver = (plan: PlanArg): Environment => {
    const key = `${plan.app ?? ''}/${plan.name}`;
    let env = drivers.get(key);
    if (!env) {
      env =
        (plan.app
          ? deps.environmentFor?.({ ...plan, app: plan.app, driver: plan.driver ?? 'local' })
          : undefined) ?? createEnvironment(plan, deps.home, deps.secretSource);
      drivers.set(key, env);
    }
    return env;
  };
  // Driver errors are infrastructure trouble: retryable, with the driver's own message.
  const guarded = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof LocalEnvironmentError) {
        throw failure(error.type, `${what}: ${error.message}${error.logTail ? `\n${error.logTail}` : ''}`);
      }
      throw error;
    }
  };

  /** Heartbeats while `fn` runs, so a dead worker is noticed in seconds, not at the activity's timeout. */
  const beating = async <T>(fn: () => Promise<T>): Promise<T> => {
    const ctx = Context.current();
    const timer = setInterval(() => ctx.heartbeat(), 1000);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
  };

  /** One verification sample: health, traffic since `since`, revenue tracking (with a revenue path) vs the baseline. */
  const sample = (args: {
    environment: PlanArg;
    verification: VerificationPlan;
    since: string;
    baseline?: VerificationSample;
    revenuePath?: string;
  }): Promise<VerificationSample> =>
    beating(async () => {
      const env = driver(args.environment);
      const { verification } = args;
      const health = await env.health();
      const traffic = await env.traffic(args.since);
      let revenueEvents: number | null = null;
      let revenueProblem: string | undefined;
      if (args.revenuePath) {
        try {
          revenueEvents = (await readRevenue(env.url, args.revenuePath)).eventCount;
        } catch (error) {
          revenueProblem = `revenue tracking unreadable: ${reason(error)}`;
        }
      }
      const errors = traffic.errors5xx + traffic.proxyErrors;
      const errorRate = traffic.requests === 0 ? 0 : errors / traffic.requests;
      const result: VerificationSample = {
        at: new Date().toISOString(),
        healthy: health.ok,
        requests: traffic.requests,
        errorRate,
        p95LatencyMs: traffic.p95LatencyMs,
        revenueEvents,
      };
      const baselineEvents = args.baseline?.revenueEvents ?? null;
      if (!health.ok) result.breach = { signal: 'health', detail: `health check failed: ${health.detail}` };
      else if (errorRate > verification.maxErrorRate) {
        result.breach = {
          signal: 'error-rate',
          detail: `${errors} of ${traffic.requests} requests failed (${(errorRate * 100).toFixed(1)}% > ${(verification.maxErrorRate * 100).toFixed(1)}%)`,
        };
      } else if (traffic.p95LatencyMs !== null && traffic.p95LatencyMs > verification.maxP95LatencyMs) {
        result.breach = {
          signal: 'latency',
          detail: `p95 latency ${traffic.p95LatencyMs.toFixed(0)} ms > ${verification.maxP95LatencyMs} ms`,
        };
      } else if (revenueProblem) result.breach = { signal: 'revenue', detail: revenueProblem };
      else if (baselineEvents !== null && revenueEvents !== null && revenueEvents < baselineEvents) {
        result.breach = {
          signal: 'revenue',
          detail: `revenue events went from ${baselineEvents} to ${revenueEvents}: the tracker lost data`,
        };
      }
      return result;
    });

  return {
    /** Starts the release beside the current one (not in traffic); returns it and the release serving before. */
    async deployRelease(args: {
      environment: PlanArg;
      release: ReleaseRef;
      releaseEnv: Record<string, string>;
    }): Promise<{ deployed: DeployedRelease; previous: string | null; serving?: boolean }> {
      return beating(async () => {
        const { environment, release } = args;
        const driverEnv = driver(environment);
        const current = await driverEnv.current();
        const secrets = resolveSecrets(
          environment.secrets,
          deps.secretSource,
          `environment ${environment.name}`,
        );
        // Releases come and go; the environment's data (a database, uploads) stays in one place they all share.
        const dataDir = envPaths(deps.home, environment).data;
        mkdirSync(dataDir, { recursive: true });
        const env = withDataDir({ ...environment.env, ...args.releaseEnv }, dataDir);
        const deployed = await guarded(`deploying ${release.releaseId} to ${environment.name}`, () =>
          driverEnv.deploy({
            releaseId: release.releaseId,
            app: release.app,
            ref: release.ref,
            artifact: release.artifact,
            start: environment.start,
            env,
            secrets,
            healthPath: environment.healthPath,
            readyPath: environment.readyPath,
          }),
        );
        // A retried deploy finds itself current: the release serving before it is the driver's previous.
        const previous =
          current?.releaseId === release.releaseId
            ? ((await driverEnv.previous())?.releaseId ?? null)
            : (current?.releaseId ?? null);
        log.info('release deployed', {
          environment: environment.name,
          releaseId: release.releaseId,
          url: deployed.url,
        });
        // `serving`: this release is the environment's current one already (the same build released again).
        return { deployed, previous, ...(current?.releaseId === release.releaseId ? { serving: true } : {}) };
      });
    },

    /**
     * A canary step: `weight` percent of customers to the deployed release, sticky per customer (the
     * rest stay on the current release). Idempotent: a retry sets the same weight.
     */
    async setCanary(args: {
      environment: PlanArg;
      releaseId: string;
      weight: number;
      sticky?: { header?: string; cookie?: string };
      /** Where customers check out: the proxy counts each release's checkouts there. */
      checkoutPath?: string;
    }): Promise<{ previousWeight: number | null }> {
      return beating(() =>
        guarded(`sending ${args.weight}% of ${args.environment.name} to ${args.releaseId}`, () =>
          driver(args.environment).setCanary(args.releaseId, args.weight, args.sticky, args.checkoutPath),
        ),
      );
    },

    /** Every customer back on the current release; the canary keeps running until retired. Idempotent. */
    async clearCanary(args: { environment: PlanArg }): Promise<{ cleared: string | null }> {
      return beating(() =>
        guarded(`clearing the canary of ${args.environment.name}`, () =>
          driver(args.environment).clearCanary(),
        ),
      );
    },

    /**
     * One reading of a canary window for the verdicts (src/verification): each release's cumulative
     * counters at the proxy, and whether its own health endpoint answers. `stable` is absent when
     * nothing else serves (a first release: judged on absolute limits).
     */
    async readCanary(args: {
      environment: PlanArg;
      canary: { releaseId: string; url: string };
      step: number;
      weight: number;
      external?: ExternalSignalPlan[];
      /** Each release's checkouts at the proxy as its payment counters (a canary with `checkoutPath`). */
      revenue?: boolean;
    }): Promise<Reading> {
      return beating(async () => {
        const env = driver(args.environment);
        const [counters, current, external] = await Promise.all([
          guarded(`reading the counters of ${args.environment.name}`, () => env.counters()),
          env.current(),
          Promise.all((args.external ?? []).map((signal) => readPrometheus(signal, args.canary.releaseId))),
        ]);
        const healthy = async (url: string): Promise<boolean> =>
          (await request(`${url}${args.environment.healthPath}`, { timeoutMs: 2000 }).catch(() => null))
            ?.status === 200;
        const of = async (releaseId: string, url: string): Promise<ReleaseCounters> => {
          const c = counters[releaseId];
          return {
            requests: c?.requests ?? 0,
            ...(c?.synthetic ? { synthetic: c.synthetic } : {}),
            ...(args.revenue
              ? {
                  revenue: {
                    paymentAttempts: c?.checkout?.attempts ?? 0,
                    failedPayments: c?.checkout?.failed ?? 0,
                    revenueEvents: c?.checkout?.succeeded ?? 0,
                    ...(c?.checkout?.synthetic ? { synthetic: c.checkout.synthetic } : {}),
                  },
                }
              : {}),
            errors: c?.errors ?? 0,
            latency: c?.latency ?? emptyLatency(),
            healthy: await healthy(url),
          };
        };
        const stable = current && current.releaseId !== args.canary.releaseId ? current : null;
        return {
          step: args.step,
          weight: args.weight,
          canary: await of(args.canary.releaseId, args.canary.url),
          ...(stable ? { stable: await of(stable.releaseId, stable.url) } : {}),
          ...(external.length > 0 ? { external } : {}),
        };
      });
    },

    /**
     * Tops a canary step's traffic up with probes on `routes` through the proxy, to `ratePerSecond`
     * in all (src/activities/probes.ts), until `durationMs` passed or the workflow cancels it.
     */
    /** Whether payment probes may run here: never where the released app's Stripe key is not a test key. */
    paymentProbesAllowed(args: {
      environment: PlanArg;
      payments: PaymentProbePlan;
    }): Promise<{ refused?: string }> {
      const found = paymentProbes(args.payments, deps.secretSource, args.environment.secrets);
      return Promise.resolve('refused' in found ? { refused: found.refused } : {});
    },

    async probeCanary(args: {
      environment: PlanArg;
      routes: string[];
      ratePerSecond: number;
      durationMs: number;
      payments?: PaymentProbePlan;
    }): Promise<ProbeReport> {
      const env = driver(args.environment);
      const context = Context.current();
      const payments = args.payments
        ? paymentProbes(args.payments, deps.secretSource, args.environment.secrets)
        : undefined;
      if (payments && 'refused' in payments) {
        log.warn('canary payment probes refused', {
          environment: args.environment.name,
          reason: payments.refused,
        });
      }
      const report = await topUpTraffic({
        ...(payments && 'probes' in payments ? { payments: payments.probes } : {}),
        url: `http://127.0.0.1:${args.environment.port}`,
        routes: args.routes,
        ratePerSecond: args.ratePerSecond,
        durationMs: args.durationMs,
        counters: () => env.counters(),
        signal: context.cancellationSignal,
        beat: (report) => context.heartbeat(report),
      });
      return payments && 'refused' in payments
        ? { ...report, payments: { sent: 0, failed: 0, events: 0, refused: payments.refused } }
        : report;
    },

    /**
     * The load test of an environment (its `loadTest:`): a fixed-rate load through its proxy, then
     * its p95 and error rate against the limits. LoadTestFailed names what broke, with the figures.
     */
    async loadTest(args: { environment: PlanArg; plan: LoadTestPlan }): Promise<LoadTestReport> {
      const context = Context.current();
      const report = await runLoadTest(
        `http://127.0.0.1:${args.environment.port}`,
        args.plan,
        context.cancellationSignal,
        (sent) => context.heartbeat({ sent }),
      );
      const breaches = loadTestBreaches(report, args.plan);
      if (breaches.length > 0) {
        throw failure(
          FailureType.LoadTestFailed,
          `load test of ${args.environment.name}: ${breaches.join('; ')} (${describeLoadTest(report, args.plan)})`,
        );
      }
      return report;
    },

    /** Moves the environment's traffic to the release (atomic; idempotent). */
    async activateRelease(args: {
      environment: PlanArg;
      releaseId: string;
    }): Promise<{ previous: string | null }> {
      return beating(async () => {
        const env = driver(args.environment);
        return guarded(`switching ${args.environment.name} to ${args.releaseId}`, () =>
          env.activate(args.releaseId),
        );
      });
    },

    /**
     * Compensation: puts the environment back on `previous` and stops `releaseId`. With no previous
     * release, the proxy answers 503: nothing that failed its checks keeps serving.
     */
    async restoreEnvironment(args: {
      environment: PlanArg;
      previous: string | null;
      releaseId: string;
    }): Promise<string> {
      return beating(async () => {
        const env = driver(args.environment);
        const name = args.environment.name;
        if (args.previous) {
          await guarded(`restoring ${name} to ${args.previous}`, () => env.activate(args.previous!));
          // Traffic is safe already; a release left running is cleaned up by the next retire.
          await guarded(`retiring ${args.releaseId}`, () => env.retire(args.releaseId)).catch(
            (error: unknown) => {
              log.warn('could not retire the rolled-back release', {
                releaseId: args.releaseId,
                error: reason(error),
              });
            },
          );
          return `${name} serves ${args.previous} again`;
        }
        await guarded(`taking ${args.releaseId} out of ${name}`, () => env.deactivate());
        await guarded(`retiring ${args.releaseId}`, () => env.retire(args.releaseId));
        return `${name} had no previous release: ${args.releaseId} taken out of traffic and retired`;
      });
    },

    /**
     * The smoke test through the environment's address: health, readiness, the routes, and with a
     * revenue plan the Stripe-signed events. SmokeTestFailed names every failed check.
     */
    async smokeTest(args: {
      environment: PlanArg;
      smoke: SmokePlan | SmokePlanV1;
      revenue?: Pick<RevenuePlan, 'webhookPath' | 'revenuePath' | 'webhookSecret'>;
    }): Promise<CheckResult[]> {
      return beating(async () => {
        const env = driver(args.environment);
        // Schema 1 runs always sent the Stripe events, with their settings in the smoke plan.
        const revenue = 'webhookPath' in args.smoke ? args.smoke : args.revenue;
        const webhookSecret = revenue
          ? Object.values(resolveSecrets([revenue.webhookSecret], deps.secretSource, 'smoke test'))[0]
          : undefined;
        const results = await runSmokeChecks({
          url: env.url,
          healthPath: args.environment.healthPath,
          readyPath: args.environment.readyPath,
          routes: args.smoke.routes,
          ...(revenue && webhookSecret ? { revenue: { ...revenue, webhookSecret } } : {}),
        });
        const failed = results.filter((r) => !r.ok);
        if (failed.length > 0) {
          throw failure(
            FailureType.SmokeTestFailed,
            `smoke test of ${args.environment.name}: ${failed.length} of ${results.length} checks failed: ${failed.map((r) => `${r.name} (${r.detail})`).join('; ')}`,
          );
        }
        return results;
      });
    },

    /** One verification sample of an environment: health, traffic since `since`, and revenue tracking where the config has it. */
    sampleEnvironment: sample,

    /** The same for schema 1 runs, whose verification plan carries the revenue path. */
    sampleProduction(args: {
      environment: PlanArg;
      verification: VerificationPlanV1;
      since: string;
      baseline?: VerificationSample;
    }): Promise<VerificationSample> {
      return sample({ ...args, revenuePath: args.verification.revenuePath });
    },

    /** Health of a release addressed directly (before it takes traffic). */
    async checkReleaseHealth(args: { url: string; path: string }): Promise<void> {
      const { status } = await request(`${args.url}${args.path}`).catch((error: unknown) => {
        throw failure(
          FailureType.EnvironmentFailed,
          `${args.url}${args.path} did not answer: ${reason(error)}`,
        );
      });
      if (status !== 200)
        throw failure(FailureType.EnvironmentFailed, `${args.url}${args.path} answered ${status}`);
    },

    /**
     * Puts the environment back on its previous release (after a run has finished). `changed: false`:
     * it was already rolled back by another request, and this one switched nothing.
     */
    async rollbackToPrevious(args: { environment: PlanArg; requestId?: string }): Promise<RollbackResult> {
      return beating(async () => {
        const env = driver(args.environment);
        const result = await guarded(`rolling ${args.environment.name} back`, () =>
          env.rollback(args.requestId),
        );
        if (!result.to) {
          // Nothing was switched, and no retry will make a previous release appear.
          throw failure(
            FailureType.NoPreviousRelease,
            `${args.environment.name} has no previous release to roll back to`,
          );
        }
        return result;
      });
    },

    /** After a successful window: the replaced release is stopped but kept for rollback; older ones go. */
    async settleEnvironment(args: {
      environment: PlanArg;
    }): Promise<{ parked: string | null; retired: string[] }> {
      const env = driver(args.environment);
      return guarded(`settling ${args.environment.name}`, () => env.settle());
    },

    /** Stops a release that no longer serves and deletes its files. */
    async retireRelease(args: { environment: PlanArg; releaseId: string }): Promise<void> {
      const env = driver(args.environment);
      const current = await env.current();
      if (current?.releaseId === args.releaseId) return; // never retire what serves
      await guarded(`retiring ${args.releaseId}`, () => env.retire(args.releaseId));
    },

    /**
     * The rollback brake of an app's lane: its automatic rollbacks on the audit trail within
     * `windowMs` before `at`, since the last `tollgate lane unlock`. Braked at `limit` or more.
     */
    laneBrake(args: { app: string; limit: number; windowMs: number; at: string }): Promise<LaneBrake> {
      return Promise.resolve(laneBrakeOf(readAudit(join(deps.home, 'audit.jsonl')), args));
    },

    /** Appends entries to the audit trail (<home>/audit.jsonl), once per workflow and index. */
    recordAudit(entries: AuditEntry[]): Promise<void> {
      mkdirSync(deps.home, { recursive: true });
      const file = join(deps.home, 'audit.jsonl');
      const attempt = Context.current().info.attempt;
      // One append per call: a retried attempt may write the same lines again; readers dedupe by (workflowId, at, action).
      appendFileSync(file, entries.map((e) => `${JSON.stringify({ ...e, attempt })}\n`).join(''));
      return Promise.resolve();
    },
  };
}
