/**
 * Activities of the daily health workflow: environment health and readiness through the proxy,
 * the Stripe key's kind (and stripe-mock's answer), and the revenue tracker's freshness.
 * A failed check is a result, not an error: only trouble with the activity itself throws.
 */
import type { Environment } from '../environments/environment.js';
import { createEnvironment } from '../environments/index.js';
import { reason, request } from '../revenue/http.js';
import type { EnvironmentPlan, HealthCheck, StripeKeyKind } from '../types.js';

/** What the health activities need from the worker. */
export interface HealthDeps {
  /** Tollgate's state directory (the local environments live under it). */
  home: string;
  /** The worker's environment: the Stripe key by name, and STRIPE_MOCK_URL when stripe-mock runs. */
  secretSource: NodeJS.ProcessEnv;
  /** The driver for an environment (its proxy URL); the local driver by default. */
  environmentFor?: (plan: EnvironmentPlan) => Environment;
}

const PROBE_TIMEOUT_MS = 5000;
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** Builds the health activities. */
export function createHealthActivities(deps: HealthDeps) {
  const urlOf = (plan: EnvironmentPlan): string =>
    (deps.environmentFor?.(plan) ?? createEnvironment(plan, deps.home, deps.secretSource)).url;

  /** GET `url`: ok on 200, otherwise the status or the network error as the reason. */
  const probe = async (name: string, url: string): Promise<HealthCheck> => {
    try {
      const { status, body, latencyMs } = await request(url, { timeoutMs: PROBE_TIMEOUT_MS });
      if (status === 200)
        return { name, ok: true, detail: `${url} answered 200 in ${latencyMs.toFixed(0)} ms` };
      const said = body.trim().slice(0, 200);
      return { name, ok: false, detail: `${url} answered ${status}${said ? `: ${said}` : ''}` };
    } catch (error) {
      return { name, ok: false, detail: `${url} did not answer: ${reason(error)}` };
    }
  };

  return {
    /** Health and readiness of an environment, through its proxy (what its users reach). */
    async checkEnvironment(args: { environment: EnvironmentPlan }): Promise<HealthCheck[]> {
      const { environment } = args;
      const url = urlOf(environment);
      return Promise.all([
        probe(`${environment.name} health`, `${url}${environment.healthPath}`),
        probe(`${environment.name} readiness`, `${url}${environment.readyPath}`),
      ]);
    },

    /**
     * The Stripe key's kind; a test key is tried against stripe-mock when STRIPE_MOCK_URL (loopback
     * only) is set. A live key is reported as live: nothing here leaves the machine.
     */
    async checkStripeKey(args: { secret: string }): Promise<HealthCheck> {
      const name = 'stripe key';
      const check = (keyKind: StripeKeyKind, ok: boolean, detail: string): HealthCheck => ({
        name,
        ok,
        detail,
        keyKind,
      });
      const key = deps.secretSource[args.secret]?.trim();
      if (!key) return check('missing', false, `${args.secret} is not set where the worker runs`);
      const prefix = /^[a-z]{2}_[a-z]+_/.exec(key)?.[0] ?? '';
      if (/^(sk|rk)_live_/.test(key)) {
        return check(
          'live',
          true,
          `${args.secret} is a live key (${prefix}); reachability is not checked here`,
        );
      }
      if (/^pk_/.test(key)) {
        return check(
          'publishable',
          false,
          `${args.secret} is a publishable key (${prefix}), not a secret key`,
        );
      }
      if (!/^(sk|rk)_test_/.test(key)) {
        return check('unknown', false, `${args.secret} is not a Stripe secret key (sk_/rk_ test or live)`);
      }
      const mock = deps.secretSource.STRIPE_MOCK_URL?.trim();
      if (!mock) {
        return check(
          'test',
          true,
          `${args.secret} is a test key (${prefix}); STRIPE_MOCK_URL is not set, reachability not checked`,
        );
      }
      let base: URL;
      try {
        base = new URL(mock);
      } catch {
        return check('test', false, `STRIPE_MOCK_URL (${mock}) is not a URL`);
      }
      if (!LOOPBACK_HOSTS.includes(base.hostname)) {
        return check(
          'test',
          false,
          `STRIPE_MOCK_URL (${base.origin}) is not a loopback address: the health check contacts loopback only`,
        );
      }
      const url = new URL('/v1/balance', base).toString();
      try {
        const { status, latencyMs } = await request(url, {
          headers: { authorization: `Bearer ${key}` },
          timeoutMs: PROBE_TIMEOUT_MS,
        });
        if (status !== 200)
          return check(
            'test',
            false,
            `stripe-mock at ${base.origin} answered ${status} to GET /v1/balance with ${args.secret}`,
          );
        return check(
          'test',
          true,
          `${args.secret} is a test key (${prefix}); stripe-mock at ${base.origin} answered 200 in ${latencyMs.toFixed(0)} ms`,
        );
      } catch (error) {
        return check('test', false, `stripe-mock at ${base.origin} did not answer: ${reason(error)}`);
      }
    },

    /** Time since the revenue tracker's last counted event (`lastEventAt`), against `maxAgeMs`. */
    async checkRevenueFreshness(args: {
      environment: EnvironmentPlan;
      path: string;
      maxAgeMs: number;
    }): Promise<HealthCheck> {
      const name = 'revenue freshness';
      const url = `${urlOf(args.environment)}${args.path}`;
      const limit = formatAge(args.maxAgeMs);
      let body: string;
      try {
        const answer = await request(url, { timeoutMs: PROBE_TIMEOUT_MS });
        if (answer.status !== 200) return { name, ok: false, detail: `${url} answered ${answer.status}` };
        body = answer.body;
      } catch (error) {
        return { name, ok: false, detail: `${url} did not answer: ${reason(error)}` };
      }
      let lastEventAt: unknown;
      try {
        lastEventAt = (JSON.parse(body) as { lastEventAt?: unknown }).lastEventAt;
      } catch {
        return { name, ok: false, detail: `${url} did not answer JSON` };
      }
      if (lastEventAt === null || lastEventAt === undefined) {
        return {
          name,
          ok: false,
          detail: `${url} reports no counted event (lastEventAt is ${String(lastEventAt)}; limit ${limit})`,
        };
      }
      const at = typeof lastEventAt === 'string' ? Date.parse(lastEventAt) : Number.NaN;
      if (Number.isNaN(at)) {
        return {
          name,
          ok: false,
          detail: `${url} reports lastEventAt ${JSON.stringify(lastEventAt)}, not a time`,
        };
      }
      const ageMs = Math.max(0, Date.now() - at);
      const ok = ageMs <= args.maxAgeMs;
      const detail = `last counted event ${formatAge(ageMs)} ago (${new Date(at).toISOString()}); limit ${limit}`;
      return { name, ok, detail: ok ? detail : `revenue tracking is stale: ${detail}`, ageMs };
    },
  };
}

/** "1d 6h", "4h 10m", "4m 10s", "850 ms": the two largest units, zeros left out. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join(' ');
}
