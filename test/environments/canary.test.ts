/**
 * A canary in the local environment, with real release processes and real HTTP: a share of the
 * customers (sticky by a header) goes to the canary while the rest stay on the current release,
 * each answer is counted for the release that gave it, the canary survives a supervisor kill, and it
 * ends by promotion (activate) or by clearing it (every customer back, the canary kept warm).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEnvironmentActivities } from '../../src/activities/environments.js';
import type { Environment } from '../../src/environments/environment.js';
import { createLocalEnvironment, envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import { freePort } from '../../src/environments/local/net.js';
import { isAlive } from '../../src/environments/local/processes.js';
import { emptyLatency, judge, verdictPlan, type Reading } from '../../src/verification/index.js';
import { fixtureArtifact, fixtureSpec, removeHome, tempHome } from './local-harness.js';

const KEY = { app: 'fixture', name: 'production' };
const STICKY = { header: 'x-customer-id' };
const CUSTOMERS = Array.from({ length: 100 }, (_, i) => `cus_${i}`);

async function setup(t: TestContext): Promise<{ env: Environment; home: string }> {
  const home = await tempHome();
  const port = await freePort();
  t.after(async () => {
    await stopEnvironment(envPaths(home, KEY));
    await removeHome(home);
  });
  const env = createLocalEnvironment({ ...KEY, port, home, readyTimeoutMs: 15_000 });
  for (const id of ['rel-a', 'rel-b']) await env.deploy(fixtureSpec(id, await fixtureArtifact(home, id)));
  await env.activate('rel-a');
  return { env, home };
}

/** Which release answered each customer, asked `rounds` times each. */
async function answers(env: Environment, rounds = 2): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      CUSTOMERS.map(async (customer) => {
        const res = await fetch(`${env.url}/`, { headers: { 'x-customer-id': customer } });
        const { release } = (await res.json()) as { release: string };
        if (!seen.has(customer)) seen.set(customer, new Set());
        seen.get(customer)!.add(release);
      }),
    );
  }
  return seen;
}

const onCanary = (seen: Map<string, Set<string>>): string[] =>
  [...seen]
    .filter(([, releases]) => releases.has('rel-b'))
    .map(([c]) => c)
    .sort();

void test('a canary takes its sticky share of customers, counted per release, and promotion ends it', async (t) => {
  const { env } = await setup(t);
  assert.deepEqual(await env.setCanary('rel-b', 20, STICKY), { previousWeight: null });
  const at20 = await answers(env);
  assert.ok(
    [...at20.values()].every((s) => s.size === 1),
    'no customer saw both releases',
  );
  const first = onCanary(at20);
  assert.ok(first.length > 5 && first.length < 40, `${first.length} of 100 customers on the canary at 20 %`);

  assert.deepEqual(await env.setCanary('rel-b', 60, STICKY), { previousWeight: 20 });
  const at60 = onCanary(await answers(env));
  assert.ok(
    first.every((c) => at60.includes(c)),
    'customers on the canary stay on it as the weight rises',
  );
  assert.ok(at60.length > first.length);

  const counters = await env.counters();
  assert.equal(counters['rel-b']!.requests, first.length * 2 + at60.length * 2);
  assert.equal(counters['rel-a']!.requests + counters['rel-b']!.requests, 400);
  assert.equal(counters['rel-a']!.errors, 0);

  await assert.rejects(env.retire('rel-b'), /is the canary in production; clear the canary first/);
  await env.activate('rel-b');
  const after = await answers(env, 1);
  assert.ok(
    [...after.values()].every((s) => s.has('rel-b') && s.size === 1),
    'promoted: every customer on rel-b',
  );
  assert.equal((await env.current())?.releaseId, 'rel-b');
});

void test('a canary survives a supervisor kill; clearing it sends every customer back', async (t) => {
  const { env, home } = await setup(t);
  await env.setCanary('rel-b', 50, STICKY);
  const before = onCanary(await answers(env, 1));
  const { pid } = JSON.parse(
    readFileSync(join(home, 'envs', KEY.app, KEY.name, 'supervisor.pid'), 'utf8'),
  ) as { pid: number };
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(20);
  assert.equal((await env.current())?.releaseId, 'rel-a', 'the next call restarts the supervisor');
  assert.deepEqual(
    onCanary(await answers(env, 1)),
    before,
    'the same customers on the canary after the restart',
  );

  assert.deepEqual(await env.clearCanary(), { cleared: 'rel-b' });
  assert.deepEqual(await env.clearCanary(), { cleared: null }, 'idempotent');
  assert.deepEqual(onCanary(await answers(env, 1)), [], 'every customer back on the current release');
  assert.equal((await env.current())?.releaseId, 'rel-a');
  await assert.rejects(env.setCanary('rel-a', 10), /is current in production: it cannot be its canary/);
  await assert.rejects(env.setCanary('rel-b', 120), /canary weight 120 is not a percentage from 0 to 100/);
});

void test('the canary activities: a step through the driver, a reading per release, and a verdict on it', async (t) => {
  const home = await tempHome();
  const port = await freePort();
  const plan = {
    app: KEY.app,
    name: KEY.name,
    driver: 'local' as const,
    port,
    start: ['node', 'dist/server.js'],
    env: {},
    secrets: [],
    healthPath: '/healthz',
    readyPath: '/readyz',
  };
  t.after(async () => {
    await stopEnvironment(envPaths(home, KEY));
    await removeHome(home);
  });
  const env = createLocalEnvironment({ ...KEY, port, home, readyTimeoutMs: 15_000 });
  await env.deploy(fixtureSpec('rel-a', await fixtureArtifact(home, 'rel-a')));
  await env.activate('rel-a');
  const canary = await env.deploy(
    fixtureSpec('rel-b', await fixtureArtifact(home, 'rel-b'), { FAULT: '500' }),
  );
  const acts = createEnvironmentActivities({ home, secretSource: {} });
  const activity = new MockActivityEnvironment();
  const read = (): Promise<Reading> =>
    activity.run<[], Reading, () => Promise<Reading>>(() =>
      acts.readCanary({
        environment: plan,
        canary: { releaseId: 'rel-b', url: canary.url },
        step: 0,
        weight: 50,
      }),
    );

  const first = await read();
  assert.equal(first.stable?.healthy, true);
  assert.equal(first.canary.healthy, true, 'its own health endpoint answers even with FAULT=500 on /');
  await activity.run(() =>
    acts.setCanary({ environment: plan, releaseId: 'rel-b', weight: 50, sticky: STICKY }),
  );
  const seen = await answersWithStatus(env);
  const second = await read();
  assert.equal(second.canary.requests - first.canary.requests, seen.canary);
  assert.equal(second.canary.errors - first.canary.errors, seen.canary, 'every canary answer was a 500');
  assert.equal(second.stable!.requests - first.stable.requests, seen.stable);
  assert.equal(second.stable!.errors, 0);

  const verdict = judge({ plan: verdictPlan(), readings: [first, second] });
  assert.equal(verdict.action, 'rollback', JSON.stringify(verdict.checks.map((c) => [c.check, c.outcome])));
  await activity.run(() => acts.clearCanary({ environment: plan }));
  assert.equal((await answersWithStatus(env)).canary, 0, 'cleared: nothing reaches the canary');
});

void test('checkouts per release: POSTs to the checkout path counted at the proxy, a checkout stop caught on them', async (t) => {
  const { env, home } = await setup(t);
  // rel-c answers 500 on everything but health: every checkout on it fails.
  await env.deploy(fixtureSpec('rel-c', await fixtureArtifact(home, 'rel-c'), { FAULT: '500' }));
  await env.setCanary('rel-c', 50, STICKY, '/api/checkout');
  const checkout = (customer: string, path = '/api/checkout'): Promise<string> =>
    fetch(`${env.url}${path}`, { method: 'POST', headers: { 'x-customer-id': customer }, body: '{}' }).then(
      async (res) => ((await res.json()) as { release: string }).release,
    );
  const releases = await Promise.all(CUSTOMERS.map((c) => checkout(c)));
  await Promise.all(CUSTOMERS.map((c) => checkout(c, '/api/checkout?retry=1')));
  // Neither a GET nor another path is a checkout.
  await Promise.all(
    CUSTOMERS.map((c) => fetch(`${env.url}/api/checkout`, { headers: { 'x-customer-id': c } })),
  );
  await Promise.all(CUSTOMERS.map((c) => checkout(c, '/api/other')));
  const onCanary = releases.filter((r) => r === 'rel-c').length;
  const counters = await env.counters();
  assert.deepEqual(counters['rel-c']?.checkout, {
    attempts: onCanary * 2,
    succeeded: 0,
    failed: onCanary * 2,
  });
  assert.deepEqual(counters['rel-a']?.checkout, {
    attempts: (100 - onCanary) * 2,
    succeeded: (100 - onCanary) * 2,
    failed: 0,
  });

  // The same counts as the canary activity reads them (revenue on), judged with the payment checks.
  const release = (id: string, at: 'start' | 'now'): Reading['canary'] => {
    const c = at === 'now' ? counters[id]! : undefined;
    return {
      requests: c?.requests ?? 0,
      errors: 0,
      latency: emptyLatency(),
      healthy: true,
      revenue: {
        paymentAttempts: c?.checkout?.attempts ?? 0,
        failedPayments: c?.checkout?.failed ?? 0,
        revenueEvents: c?.checkout?.succeeded ?? 0,
      },
    };
  };
  const at = (when: 'start' | 'now'): Reading => ({
    step: 0,
    weight: 50,
    canary: release('rel-c', when),
    stable: release('rel-a', when),
  });
  const verdict = judge({ plan: verdictPlan({ revenue: true }), readings: [at('start'), at('now')] });
  assert.equal(verdict.action, 'rollback');
  assert.ok(
    ['failed-payments-rise', 'checkout-stop'].includes(verdict.reason),
    `${verdict.reason}: ${verdict.detail}`,
  );
});

/** How many of 100 customers' requests the canary and the stable release answered. */
async function answersWithStatus(env: Environment): Promise<{ canary: number; stable: number }> {
  let canary = 0;
  let stable = 0;
  await Promise.all(
    CUSTOMERS.map(async (customer) => {
      const res = await fetch(`${env.url}/`, { headers: { 'x-customer-id': customer } });
      const { release } = (await res.json()) as { release: string };
      if (release === 'rel-b') canary += 1;
      else stable += 1;
    }),
  );
  return { canary, stable };
}
