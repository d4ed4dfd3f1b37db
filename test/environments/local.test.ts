/** The local environment driver against real processes and real HTTP, on loopback only. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Environment, RollbackResult } from '../../src/environments/environment.js';
import {
  createLocalEnvironment,
  envPaths,
  environmentStatus,
  listLocalEnvironments,
  stopEnvironment,
} from '../../src/environments/local/index.js';
import { INHERITED_ENV } from '../../src/environments/local/launch.js';
import { freePort } from '../../src/environments/local/net.js';
import { isAlive } from '../../src/environments/local/processes.js';
import {
  fixtureArtifact,
  fixtureSpec,
  hit,
  loadLoop,
  median,
  releaseOf,
  removeHome,
  tempHome,
} from './local-harness.js';

/** A rollback's answer without its time. */
const pick = ({ from, to, changed }: RollbackResult): Omit<RollbackResult, 'at'> => ({ from, to, changed });

const NAME = 'staging';
const KEY = { app: 'fixture', name: NAME };

/** A fresh home and port for one test, stopped and removed when the test ends, even on failure. */
async function setup(
  t: TestContext,
  readyTimeoutMs = 15_000,
): Promise<{ env: Environment; home: string; port: number }> {
  const home = await tempHome();
  const port = await freePort();
  t.after(async () => {
    await stopEnvironment(envPaths(home, KEY));
    await removeHome(home);
  });
  return { env: createLocalEnvironment({ ...KEY, port, home, readyTimeoutMs }), home, port };
}

async function deployFixture(
  env: Environment,
  home: string,
  id: string,
  extra: Record<string, string> = {},
): Promise<void> {
  await env.deploy(fixtureSpec(id, await fixtureArtifact(home, id), extra));
}

async function servedBy(env: Environment): Promise<string | null> {
  return releaseOf(await hit(`${env.url}/`));
}

void test('answers 503 with a JSON reason when no release is active', async (t) => {
  const { env } = await setup(t);
  const health = await env.health();
  assert.equal(health.ok, false);
  assert.equal(health.releaseId, null);
  const h = await hit(`${env.url}/`);
  assert.equal(h.status, 503);
  assert.equal((JSON.parse(h.body) as { error: string }).error, 'no_active_release');
});

void test("the supervisor and its releases get only the inherited environment, never the worker's secrets", async (t) => {
  const planted = { STRIPE_SECRET_KEY: 'sk_test_planted_in_the_worker', TEMPORAL_ADDRESS: '127.0.0.1:1' };
  Object.assign(process.env, planted);
  t.after(() => {
    for (const key of Object.keys(planted)) delete process.env[key];
  });
  const { env, home } = await setup(t);
  const deployed = await env.deploy(
    fixtureSpec('rel-env', await fixtureArtifact(home, 'rel-env'), { RELEASE_ONLY: 'yes' }),
  );
  const environOf = (pid: number): Map<string, string> =>
    new Map(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  const { pid } = JSON.parse(readFileSync(envPaths(home, KEY).pidFile, 'utf8')) as { pid: number };
  const supervisor = environOf(pid);
  const release = environOf(deployed.pid);
  for (const seen of [supervisor, release]) {
    for (const key of Object.keys(planted)) assert.equal(seen.has(key), false, `${key} leaked`);
  }
  assert.deepEqual(
    [...supervisor.keys()].filter((k) => !(INHERITED_ENV as readonly string[]).includes(k)),
    [],
    'the supervisor has nothing but the inherited variables',
  );
  assert.equal(supervisor.get('PATH'), process.env.PATH);
  assert.equal(release.get('RELEASE_ONLY'), 'yes', "the release's own env still reaches it");
});

void test('deploy, activate, switch and roll back', async (t) => {
  const { env, home } = await setup(t);
  await deployFixture(env, home, 'rel-a');
  assert.equal(await env.current(), null);
  assert.deepEqual(await env.activate('rel-a'), { previous: null });
  assert.equal(await servedBy(env), 'rel-a');
  assert.equal((await env.health()).ok, true);

  const again = await env.deploy(fixtureSpec('rel-a', await fixtureArtifact(home, 'rel-a-again')));
  assert.equal(
    again.pid,
    (await env.current())?.pid,
    'deploying the same release again returns the running one',
  );

  await deployFixture(env, home, 'rel-b');
  assert.deepEqual(await env.activate('rel-b'), { previous: 'rel-a' });
  assert.deepEqual(await env.activate('rel-b'), { previous: 'rel-a' }, 'activate is idempotent');
  assert.equal(await servedBy(env), 'rel-b');
  assert.equal((await env.previous())?.releaseId, 'rel-a');

  const first = await env.rollback('request-1');
  assert.deepEqual({ ...first, at: undefined }, { from: 'rel-b', to: 'rel-a', changed: true, at: undefined });
  assert.equal(await servedBy(env), 'rel-a');
  assert.deepEqual(await env.rollback('request-1'), first, 'a retried request answers the same');
  assert.deepEqual(
    await env.rollback('request-2'),
    { ...first, changed: false },
    'another request after the switch changes nothing, and says when the switch was',
  );
  assert.equal(await servedBy(env), 'rel-a');
  assert.equal(await env.previous(), null);
  assert.equal((await env.current())?.releaseId, 'rel-a');

  const state = JSON.parse(readFileSync(join(home, 'envs', KEY.app, NAME, 'state.json'), 'utf8')) as {
    current: string;
    history: unknown[];
  };
  assert.equal(state.current, 'rel-a');
  assert.ok(state.history.length >= 4);
  assert.ok(
    !readFileSync(join(home, 'envs', KEY.app, NAME, 'state.json'), 'utf8').includes('not-a-real-secret'),
    'no secret in state.json',
  );
  assert.deepEqual(await listLocalEnvironments(home), [KEY]);
  const status = await environmentStatus(home, KEY);
  assert.equal(status.current, 'rel-a');
  assert.ok(status.supervisorPid);
});

void test('no failed request while traffic moves (activate and rollback, keep-alive on and off)', async (t) => {
  const { env, home } = await setup(t);
  await deployFixture(env, home, 'rel-a', { DELAY_MS: '5' });
  await deployFixture(env, home, 'rel-b', { DELAY_MS: '5' });
  await env.activate('rel-a');
  for (const keepAlive of [true, false]) {
    const since = new Date().toISOString();
    const moves = (async () => {
      await sleep(1000);
      await env.activate('rel-b');
      await sleep(1000);
      await env.rollback();
      await sleep(1000);
    })();
    const result = await loadLoop(`${env.url}/`, 20, keepAlive, moves);
    await moves;
    const traffic = await env.traffic(since);
    t.diagnostic(
      `keep-alive ${keepAlive ? 'on' : 'off'}: ${result.requests} requests, ${result.failures.length} failed, by release ${JSON.stringify(result.byRelease)}; proxy saw ${traffic.requests} (5xx ${traffic.errors5xx}, proxy errors ${traffic.proxyErrors}, p95 ${traffic.p95LatencyMs} ms)`,
    );
    assert.deepEqual(result.failures.slice(0, 3), []);
    assert.ok((result.byRelease['rel-a'] ?? 0) > 0 && (result.byRelease['rel-b'] ?? 0) > 0);
    assert.equal(traffic.errors5xx + traffic.proxyErrors, 0);
    // Set up the next round: rel-a serves, rel-b is previous-able again.
    await env.activate('rel-a');
  }
});

void test('a release that never becomes ready is refused and leaves nothing behind', async (t) => {
  const { env, home } = await setup(t, 2000);
  await deployFixture(env, home, 'rel-a');
  await env.activate('rel-a');
  const stateFile = join(home, 'envs', KEY.app, NAME, 'state.json');
  const before = readFileSync(stateFile, 'utf8');
  await assert.rejects(deployFixture(env, home, 'rel-stuck', { FAULT: 'not-ready' }), (err: Error) => {
    assert.match(err.message, /release rel-stuck was not ready within 2000 ms/);
    assert.match(err.message, /HTTP 503/);
    assert.match(err.message, /listening on/, 'the message carries the log tail');
    return true;
  });
  await assert.rejects(
    deployFixture(env, home, 'rel-crash', { FAULT: 'crash' }),
    /rel-crash exited before it was ready[\s\S]*crashing on purpose/,
  );
  assert.equal(readFileSync(stateFile, 'utf8'), before, 'state unchanged');
  assert.equal(existsSync(join(home, 'envs', KEY.app, NAME, 'releases', 'rel-stuck')), false);
  const log = readFileSync(join(home, 'envs', KEY.app, NAME, 'releases', 'rel-stuck.log'), 'utf8');
  const pid = Number(/pid (\d+)/.exec(log)?.[1]);
  assert.ok(pid > 0);
  assert.equal(isAlive(pid), false, 'the unready process was stopped');
  assert.equal(await servedBy(env), 'rel-a');
});

void test('releases and proxy outlive the process that created the driver', async (t) => {
  const { env, home, port } = await setup(t);
  const artifact = await fixtureArtifact(home, 'rel-a');
  const indexJs = new URL('../../src/environments/local/index.js', import.meta.url).href;
  const script = `
    const { createLocalEnvironment } = await import(process.argv[1]);
    const [home, port, spec] = [process.argv[2], Number(process.argv[3]), JSON.parse(process.argv[4])];
    const env = createLocalEnvironment({ app: ${JSON.stringify(KEY.app)}, name: ${JSON.stringify(NAME)}, port, home });
    env.deploy(spec).then(() => env.activate(spec.releaseId)).then(() => { console.log('ACTIVE'); setInterval(() => {}, 1000); },
      (err) => { console.error(err); process.exit(1); });`;
  const worker = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script,
      indexJs,
      home,
      String(port),
      JSON.stringify(fixtureSpec('rel-a', artifact)),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => worker.kill('SIGKILL'));
  await new Promise<void>((done, fail) => {
    worker.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ACTIVE') && done());
    worker.on('exit', (code) => fail(new Error(`worker exited ${code}`)));
  });
  worker.kill('SIGKILL');
  await new Promise((done) => worker.once('exit', done));
  assert.equal(await servedBy(env), 'rel-a', 'the proxy still serves after the worker died');
  assert.equal((await env.current())?.releaseId, 'rel-a', 'a new driver sees the same current release');
});

void test('a killed supervisor is restarted by the next call and re-adopts the release', async (t) => {
  const { env, home } = await setup(t);
  await deployFixture(env, home, 'rel-a');
  await env.activate('rel-a');
  const releasePid = (await env.current())?.pid;
  const { pid } = JSON.parse(readFileSync(join(home, 'envs', KEY.app, NAME, 'supervisor.pid'), 'utf8')) as {
    pid: number;
  };
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(20);
  assert.equal((await hit(`${env.url}/`)).status, null, 'no proxy while the supervisor is down');
  const current = await env.current();
  assert.equal(current?.releaseId, 'rel-a');
  assert.equal(current?.pid, releasePid, 'the running release was adopted, not restarted');
  assert.equal(await servedBy(env), 'rel-a');

  // A release whose process also died is restarted from its directory.
  process.kill(-(releasePid as number), 'SIGKILL');
  const { pid: pid2 } = JSON.parse(
    readFileSync(join(home, 'envs', KEY.app, NAME, 'supervisor.pid'), 'utf8'),
  ) as {
    pid: number;
  };
  process.kill(pid2, 'SIGKILL');
  while (isAlive(pid2) || isAlive(releasePid as number)) await sleep(20);
  const restarted = await env.current();
  assert.notEqual(restarted?.pid, releasePid);
  assert.equal(await servedBy(env), 'rel-a');
});

void test('a parked release stays stopped when the supervisor restarts', async (t) => {
  const { env, home } = await setup(t);
  for (const id of ['r1', 'r2']) {
    await deployFixture(env, home, id);
    await env.activate(id);
  }
  assert.deepEqual(await env.settle(), { parked: 'r1', retired: [] });
  const { pid } = JSON.parse(readFileSync(join(home, 'envs', KEY.app, NAME, 'supervisor.pid'), 'utf8')) as {
    pid: number;
  };
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(20);
  // The next call starts a supervisor, which recovers the state: r2 serves, r1 stays parked.
  assert.equal((await env.current())?.releaseId, 'r2');
  const status = await environmentStatus(home, KEY);
  assert.deepEqual(status.releases.map((r) => [r.releaseId, r.alive]).sort(), [
    ['r1', false],
    ['r2', true],
  ]);
  assert.deepEqual(pick(await env.rollback()), { from: 'r2', to: 'r1', changed: true });
  assert.equal(await servedBy(env), 'r1');
});

void test('traffic() counts requests and the 5xx share of a faulting release', async (t) => {
  const { env, home } = await setup(t);
  await deployFixture(env, home, 'rel-good');
  await deployFixture(env, home, 'rel-bad', { FAULT: '500' });
  await env.activate('rel-good');
  const before = new Date().toISOString();
  await Promise.all(Array.from({ length: 30 }, () => hit(`${env.url}/`)));
  const good = await env.traffic(before);
  assert.equal(good.requests, 30);
  assert.equal(good.errors5xx, 0);
  assert.ok(good.p95LatencyMs !== null && good.p95LatencyMs >= 0);

  await env.activate('rel-bad');
  await sleep(5); // keep the windows apart at millisecond resolution
  const after = new Date().toISOString();
  await Promise.all(Array.from({ length: 40 }, () => hit(`${env.url}/`)));
  const bad = await env.traffic(after);
  t.diagnostic(`healthy window ${JSON.stringify(good)}; faulting window ${JSON.stringify(bad)}`);
  assert.equal(bad.requests, 40);
  assert.equal(bad.errors5xx, 40);
  assert.equal(bad.proxyErrors, 0);
  assert.equal((await env.traffic(before)).requests, 70);
});

void test('retire refuses the current release and stops the previous one', async (t) => {
  const { env, home } = await setup(t);
  await deployFixture(env, home, 'rel-a');
  await deployFixture(env, home, 'rel-b');
  await env.activate('rel-a');
  await env.activate('rel-b');
  const previousPid = (await env.previous())?.pid as number;
  await assert.rejects(env.retire('rel-b'), /rel-b is current/);
  await env.retire('rel-a');
  assert.equal(isAlive(previousPid), false);
  assert.equal(existsSync(join(home, 'envs', KEY.app, NAME, 'releases', 'rel-a')), false);
  assert.equal(await env.previous(), null);
  assert.deepEqual(
    await env.rollback(),
    { from: null, to: null, changed: false },
    'nothing left to roll back to',
  );
  await env.retire('rel-a'); // idempotent
  assert.equal(await servedBy(env), 'rel-b');
});

void test('measures rollback: call to the proxy serving the previous release', async (t) => {
  const { env, home } = await setup(t);
  await deployFixture(env, home, 'rel-a');
  await deployFixture(env, home, 'rel-b');
  await env.activate('rel-a');
  const served: number[] = [];
  const resolved: number[] = [];
  for (let i = 0; i < 10; i++) {
    await env.activate('rel-b');
    const t0 = performance.now();
    const call = env.rollback().then(() => resolved.push(performance.now() - t0));
    while ((await servedBy(env)) !== 'rel-a') {
      // poll until the switch is visible through the proxy
    }
    served.push(performance.now() - t0);
    await call;
  }
  t.diagnostic(
    `rollback → proxy serves previous: median ${median(served).toFixed(1)} ms (min ${Math.min(...served).toFixed(1)}, max ${Math.max(...served).toFixed(1)}); rollback() resolves: median ${median(resolved).toFixed(1)} ms`,
  );
  assert.ok(median(served) < 1000);
});

void test('deactivate takes the current release out of traffic; nothing comes back on the next call', async (t) => {
  const { env, home } = await setup(t);
  await deployFixture(env, home, 'only');
  await env.activate('only');
  assert.equal(await servedBy(env), 'only');
  assert.deepEqual(await env.deactivate(), { previous: 'only' });
  assert.equal((await hit(`${env.url}/`)).status, 503);
  assert.equal(await env.current(), null);
  assert.deepEqual(await env.deactivate(), { previous: null }, 'idempotent');
  await env.retire('only');
  assert.equal(await env.current(), null);
});

void test('settle parks the previous release for rollback and deletes older ones', async (t) => {
  const { env, home } = await setup(t);
  for (const id of ['r1', 'r2', 'r3']) {
    await deployFixture(env, home, id);
    await env.activate(id);
  }
  const result = await env.settle();
  assert.deepEqual(result, { parked: 'r2', retired: ['r1'] });
  const status = await environmentStatus(home, KEY);
  assert.deepEqual(status.releases.map((r) => [r.releaseId, r.alive]).sort(), [
    ['r2', false],
    ['r3', true],
  ]);
  assert.equal(status.previous, 'r2');
  // A rollback after the window restarts the parked release and serves it.
  assert.deepEqual(pick(await env.rollback()), { from: 'r3', to: 'r2', changed: true });
  assert.equal(await servedBy(env), 'r2');
});
