/**
 * The daily health workflow and its schedule, against the real dev server: the real `tollgate`
 * CLI as a process, stand-in environments as plain HTTP servers on the environments' proxy
 * ports, and stripe-mock.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CATCHUP_WINDOW, healthScheduleId } from '../../src/cli/schedule.js';
import type { DailyHealthInput, DailyHealthReport, EnvironmentPlan } from '../../src/types.js';
import type { dailyHealthCheck } from '../../src/workflows/daily-health.js';
import { runCli, type CliResult } from '../support/cli.js';
import { REVENUE } from '../support/delivery.js';
import { environmentPlan, fixtureRepo } from '../support/stages.js';
import { startStripeMock } from '../support/stripe-mock.js';
import {
  createTestWorker,
  recordHistory,
  ROOT,
  startTestServer,
  tempDir,
  uniqueIds,
  temporalEnv,
} from '../support/temporal.js';

const HOUR = 3_600_000;

let env: TestWorkflowEnvironment;
const servers: Server[] = [];
const processes: ChildProcess[] = [];
before(async () => {
  env = await startTestServer();
});
after(async () => {
  for (const child of processes) child.kill('SIGKILL');
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await env?.teardown();
});

/** A stand-in for an environment's proxy on a free loopback port: health, readiness and revenue. */
async function fakeEnvironment(options: { ready: boolean; lastEventAt: string | null }): Promise<number> {
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/healthz') json(200, { status: 'ok' });
    else if (req.url === '/readyz')
      json(options.ready ? 200 : 503, { ready: options.ready, database: 'locked' });
    else if (req.url === '/metrics/revenue') json(200, { eventCount: 3, lastEventAt: options.lastEventAt });
    else json(404, { error: 'not found' });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** Starts stripe-mock (stopped with the other processes after the tests); resolves with its HTTP base URL. */
async function stripeMockUrl(): Promise<string> {
  const mock = await startStripeMock();
  processes.push(mock.process);
  return mock.url;
}

/** Writes a config with a quick health stage, staging and production on the given ports, and a cron. */
function writeConfig(
  dir: string,
  app: string,
  ports: [number, number],
  cron: string,
  timezone = 'UTC',
): string {
  const config = {
    app,
    source: '.',
    runner: 'host',
    stages: {
      'quick-health-check': {
        steps: [['node', '-e', 'console.log("health: ok")']],
        timeout: '1m',
        retry: { maximumAttempts: 1 },
      },
      'build-production-image': { steps: [['true']], artifact: { include: ['tollgate.config.ts'] } },
    },
    environments: [
      { name: 'staging', port: ports[0] },
      { name: 'production', port: ports[1], promotion: { mode: 'auto' } },
    ],
    revenue: {},
    health: { schedule: { cron, timezone }, revenueMaxAge: '24h', stage: 'quick-health-check' },
  };
  const path = join(dir, 'tollgate.config.ts');
  writeFileSync(path, `export default ${JSON.stringify(config, null, 2)};\n`);
  // The health stage runs on a checkout of the repository's HEAD (nothing is deployed here).
  fixtureRepo(dir, {});
  return path;
}

/** Runs `tollgate <args>` as a process against the test server. */
function cli(args: string[], extraEnv: Record<string, string>): Promise<CliResult> {
  return runCli(args, {
    ...process.env,
    ...temporalEnv(env),
    TOLLGATE_RUNNER: 'host',
    ...extraEnv,
  });
}

/** Input for a direct run (no health stage): environments on the given ports; no revenue block without a key. */
function directInput(app: string, ports: number[], stripeKeySecret?: string): DailyHealthInput {
  const environment = (name: string, port: number): EnvironmentPlan => environmentPlan(app, name, port);
  return {
    schemaVersion: 2,
    app,
    source: { repository: ROOT, subdir: '' },
    runner: 'host',
    dependencies: [],
    environments: ports.map((port, i) =>
      environment(i === ports.length - 1 ? 'production' : `env-${i}`, port),
    ),
    ...(stripeKeySecret ? { revenue: { ...REVENUE, stripeKeySecret, maxAgeMs: 24 * HOUR } } : {}),
  };
}

describe('daily health', () => {
  it('schedule apply twice leaves one schedule with the latest spec', async () => {
    const app = `health-apply-${randomUUID().slice(0, 6)}`;
    const dir = tempDir('health-apply');
    const { taskQueue } = uniqueIds('health-apply');
    const processEnv = { TOLLGATE_TASK_QUEUE: taskQueue, TOLLGATE_HOME: join(dir, 'home') };
    const ports: [number, number] = [40001, 40002];

    const first = await cli(
      ['schedule', 'apply', '-c', writeConfig(dir, app, ports, '0 6 * * *')],
      processEnv,
    );
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Created tollgate-daily-health-/);
    const second = await cli(
      ['schedule', 'apply', '-c', writeConfig(dir, app, ports, '30 7 * * 1-5', 'Europe/Berlin')],
      processEnv,
    );
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /Updated tollgate-daily-health-/);

    const ids: string[] = [];
    for await (const s of env.client.schedule.list()) if (s.scheduleId.includes(app)) ids.push(s.scheduleId);
    assert.deepEqual(ids, [healthScheduleId(app)], 'exactly one schedule for the app');

    const description = await env.client.schedule.getHandle(healthScheduleId(app)).describe();
    assert.equal(description.spec.timezone, 'Europe/Berlin');
    const [calendar] = description.spec.calendars ?? [];
    assert.deepEqual(
      calendar?.hour.map((r) => r.start),
      [7],
    );
    assert.deepEqual(
      calendar?.minute.map((r) => r.start),
      [30],
    );
    assert.deepEqual(calendar?.dayOfWeek, [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }]);
    assert.equal(description.policies.overlap, 'SKIP');
    assert.equal(description.policies.catchupWindow, 60_000, `catchup window ${String(CATCHUP_WINDOW)}`);
    assert.equal(description.action.workflowType, 'dailyHealthCheck');
    assert.equal(description.action.taskQueue, taskQueue);
    const [input] = description.action.args as [DailyHealthInput];
    assert.deepEqual(
      input.environments.map((e) => e.port),
      ports,
    );

    const status = await cli(
      ['schedule', 'status', '--json', '-c', join(dir, 'tollgate.config.ts')],
      processEnv,
    );
    assert.equal(status.code, 0, status.stderr);
    const shown = JSON.parse(status.stdout) as { spec: string; paused: boolean; nextRuns: string[] };
    assert.equal(shown.spec, '30 7 * * MONDAY-FRIDAY');
    assert.equal(shown.paused, false);
    assert.ok(shown.nextRuns.length > 0, 'next run times are shown');

    const deleted = await cli(['schedule', 'delete', '-c', join(dir, 'tollgate.config.ts')], processEnv);
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  it('a triggered run reports the environment that is not ready, and notifies', async () => {
    const app = `health-trigger-${randomUUID().slice(0, 6)}`;
    const dir = tempDir('health-trigger');
    const home = join(dir, 'home');
    const { taskQueue } = uniqueIds('health-trigger');
    const recent = new Date(Date.now() - 5 * 60_000).toISOString();
    const ports: [number, number] = [
      await fakeEnvironment({ ready: false, lastEventAt: recent }),
      await fakeEnvironment({ ready: true, lastEventAt: recent }),
    ];
    const stripeMock = await stripeMockUrl();
    const processEnv = { TOLLGATE_TASK_QUEUE: taskQueue, TOLLGATE_HOME: home };
    const configPath = writeConfig(dir, app, ports, '0 6 * * *');
    const applied = await cli(['schedule', 'apply', '-c', configPath], processEnv);
    assert.equal(applied.code, 0, applied.stderr);

    const worker = await createTestWorker(env, taskQueue, home, {
      secretSource: { STRIPE_SECRET_KEY: 'sk_test_tollgatehealth', STRIPE_MOCK_URL: stripeMock },
    });
    await worker.runUntil(async () => {
      const triggered = await cli(['schedule', 'trigger', '--wait', '--json', '-c', configPath], processEnv);
      assert.equal(triggered.code, 1, `a failed check exits 1\n${triggered.stdout}${triggered.stderr}`);
      const report = JSON.parse(triggered.stdout) as DailyHealthReport & { workflowId: string };
      assert.ok(report.workflowId.startsWith(healthScheduleId(app)), report.workflowId);
      const byName = new Map(report.checks.map((c) => [c.name, c]));
      assert.equal(report.ok, false);
      assert.equal(byName.get('staging readiness')?.ok, false);
      assert.match(
        byName.get('staging readiness')!.detail,
        new RegExp(`127\\.0\\.0\\.1:${ports[0]}/readyz answered 503`),
      );
      assert.equal(byName.get('staging health')?.ok, true);
      assert.equal(byName.get('production health')?.ok, true);
      assert.equal(byName.get('production readiness')?.ok, true);
      assert.equal(byName.get('quick-health-check')?.ok, true, byName.get('quick-health-check')?.detail);
      assert.equal(byName.get('stripe key')?.keyKind, 'test');
      assert.equal(byName.get('stripe key')?.ok, true, byName.get('stripe key')?.detail);
      assert.match(byName.get('stripe key')!.detail, /stripe-mock .* answered 200/);
      assert.equal(byName.get('revenue freshness')?.ok, true, byName.get('revenue freshness')?.detail);
      assert.deepEqual(
        report.checks.filter((c) => !c.ok).map((c) => c.name),
        ['staging readiness'],
      );

      const notifications = readFileSync(join(home, 'notifications.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { kind: string; text: string; workflowId: string });
      assert.equal(notifications.length, 1);
      assert.equal(notifications[0]!.kind, 'daily-health-failed');
      assert.equal(notifications[0]!.workflowId, report.workflowId);
      assert.match(notifications[0]!.text, /staging readiness/);

      const status = await cli(['schedule', 'status', '--json', '-c', configPath], processEnv);
      const shown = JSON.parse(status.stdout) as { recentRuns: { workflowId: string; status: string }[] };
      assert.deepEqual(
        shown.recentRuns.map((r) => [r.workflowId, r.status]),
        [[report.workflowId, 'COMPLETED']],
      );
      recordHistory(env, report.workflowId, 'daily-health');
    });
    await env.client.schedule.getHandle(healthScheduleId(app)).delete();
  });

  it('a stale revenue signal is reported failed with its age (tollgate health)', async () => {
    const app = `health-stale-${randomUUID().slice(0, 6)}`;
    const dir = tempDir('health-stale');
    const home = join(dir, 'home');
    const { taskQueue } = uniqueIds('health-stale');
    const stale = new Date(Date.now() - 30 * HOUR).toISOString();
    const ports: [number, number] = [
      await fakeEnvironment({ ready: true, lastEventAt: stale }),
      await fakeEnvironment({ ready: true, lastEventAt: stale }),
    ];
    const worker = await createTestWorker(env, taskQueue, home, {
      secretSource: { STRIPE_SECRET_KEY: 'sk_test_tollgatehealth' },
    });
    await worker.runUntil(async () => {
      const run = await cli(['health', '--wait', '--json', '-c', writeConfig(dir, app, ports, '0 6 * * *')], {
        TOLLGATE_TASK_QUEUE: taskQueue,
        TOLLGATE_HOME: home,
      });
      assert.equal(run.code, 1, `${run.stdout}${run.stderr}`);
      const report = JSON.parse(run.stdout) as DailyHealthReport;
      const revenue = report.checks.find((c) => c.name === 'revenue freshness');
      assert.equal(revenue?.ok, false);
      assert.ok(
        revenue.ageMs! >= 30 * HOUR && revenue.ageMs! < 31 * HOUR,
        `age ${revenue.ageMs} is about 30 h`,
      );
      assert.match(revenue.detail, /stale: last counted event 1d 6h ago .*limit 1d$/);
      assert.deepEqual(
        report.checks.filter((c) => !c.ok).map((c) => c.name),
        ['revenue freshness'],
      );
      // No stripe-mock here: the key's kind is reported without a reachability check.
      const stripe = report.checks.find((c) => c.name === 'stripe key');
      assert.equal(stripe?.ok, true);
      assert.match(stripe.detail, /STRIPE_MOCK_URL is not set/);
    });
  });

  it('a live key is reported as live, and no network is tried for it', async () => {
    const { taskQueue, workflowId } = uniqueIds('health-live');
    const home = join(tempDir('health-live'), 'home');
    const port = await fakeEnvironment({ ready: true, lastEventAt: new Date().toISOString() });
    const worker = await createTestWorker(env, taskQueue, home, {
      // A loopback STRIPE_MOCK_URL nobody listens on: a live key must not be sent anywhere.
      secretSource: { STRIPE_PROD_KEY: 'sk_live_tollgatenotarealkey', STRIPE_MOCK_URL: 'http://127.0.0.1:9' },
    });
    const report = await worker.runUntil(
      env.client.workflow.execute<typeof dailyHealthCheck>('dailyHealthCheck', {
        taskQueue,
        workflowId,
        args: [directInput('health-live', [port], 'STRIPE_PROD_KEY')],
      }),
    );
    const stripe = report.checks.find((c) => c.name === 'stripe key');
    assert.equal(stripe?.keyKind, 'live');
    assert.equal(stripe.ok, true);
    assert.match(stripe.detail, /STRIPE_PROD_KEY is a live key \(sk_live_\); reachability is not checked/);
    assert.doesNotMatch(JSON.stringify(report), /tollgatenotarealkey/, 'the key itself is never reported');
    assert.equal(report.ok, true, JSON.stringify(report.checks));
  });

  it('without a revenue block, no Stripe or revenue check runs, and the report says why', async () => {
    const { taskQueue, workflowId } = uniqueIds('health-plain');
    const home = join(tempDir('health-plain'), 'home');
    // A plain JSON API: health and readiness, and no revenue endpoint at all.
    const port = await fakeEnvironment({ ready: true, lastEventAt: null });
    const worker = await createTestWorker(env, taskQueue, home, { secretSource: {} });
    const report = await worker.runUntil(
      env.client.workflow.execute<typeof dailyHealthCheck>('dailyHealthCheck', {
        taskQueue,
        workflowId,
        args: [directInput('health-plain', [port])],
      }),
    );
    assert.equal(report.ok, true, JSON.stringify(report.checks));
    const byName = new Map(report.checks.map((c) => [c.name, c]));
    assert.equal(byName.get('production health')?.ok, true);
    for (const name of ['stripe key', 'revenue freshness']) {
      assert.match(byName.get(name)?.notChecked ?? '', /the config has no revenue block/, name);
      assert.equal(byName.get(name)?.keyKind, undefined, `${name} did not look at any key`);
    }
    assert.match(byName.get('health stage')?.notChecked ?? '', /names no health.stage/);
  });
});
