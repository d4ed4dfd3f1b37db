/**
 * The docker driver against the real Docker engine: releases as containers from images built here
 * on a base assembled from Debian's packages (scripts/images), traffic through Tollgate's proxy.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LABEL } from '../../src/environments/docker/runtime.js';
import { secretsPath } from '../../src/environments/docker/secrets.js';
import { FailureType } from '../../src/failures.js';
import type { LocalEnvironment, LocalEnvironmentError } from '../../src/environments/local/index.js';
import { envPaths, environmentStatus } from '../../src/environments/local/index.js';
import type { EnvState } from '../../src/environments/local/state.js';
import { containersOf, docker, dockerEnvironment, engineControl } from '../support/docker.js';
import { fixtureArtifact, fixtureSpec, hit, loadLoop, releaseOf } from '../environments/local-harness.js';

void test('a release runs as a labelled container on loopback; its secret reaches the process, never inspect', async (t) => {
  const { env, home, key } = await dockerEnvironment(t);
  const deployed = await env.deploy(fixtureSpec('r1', await fixtureArtifact(home, 'r1')));
  assert.match(deployed.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(releaseOf(await hit(`${deployed.url}/`)), 'r1', 'answers on its own address');
  assert.equal((await hit(`${env.url}/`)).status, 503, 'not in traffic before activate');
  await env.activate('r1');
  assert.equal(releaseOf(await hit(`${env.url}/`)), 'r1');

  const [container] = await containersOf(home, key);
  assert.ok(container, 'the engine lists the release');
  assert.equal(container.Labels[LABEL.release], 'r1');
  assert.equal(container.Labels[LABEL.app], 'fixture');
  assert.equal(container.Labels[LABEL.environment], 'production');
  assert.equal(container.Labels[LABEL.digest], deployed.digest);
  const published = container.Ports.filter((p) => p.PublicPort);
  assert.ok(
    published.length > 0 && published.every((p) => p.IP === '127.0.0.1'),
    'published on loopback only',
  );

  const secret = 'not-a-real-secret';
  const digest = JSON.parse((await hit(`${deployed.url}/secret-digest`)).body) as { sha256: string };
  assert.equal(
    digest.sha256,
    createHash('sha256').update(secret).digest('hex'),
    'the process has the secret',
  );
  const inspected = JSON.stringify(await docker.getContainer(container.Id).inspect());
  assert.ok(!inspected.includes(secret), 'docker inspect never shows the secret');
  // `tollgate env logs` reads the container's output through the supervisor.
  const logs = await (env as LocalEnvironment).logs();
  assert.equal(logs.releaseId, 'r1');
  assert.match(logs.tail, /release r1 listening on 8080 .* secret-set true/);
  const image = JSON.stringify(await docker.getImage(container.ImageID).inspect());
  assert.ok(!image.includes(secret), 'nor does the image');
});

void test('blue/green: the old container stays warm, rollback switches back with 0 failed requests', async (t) => {
  const { env, home } = await dockerEnvironment(t);
  await env.deploy(fixtureSpec('blue', await fixtureArtifact(home, 'blue')));
  await env.activate('blue');
  await env.deploy(fixtureSpec('green', await fixtureArtifact(home, 'green')));
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  const loop = loadLoop(`${env.url}/`, 4, true, until);
  await sleep(300);
  await env.activate('green');
  await sleep(300);
  const started = performance.now();
  const result = await env.rollback('rb-1');
  const switchMs = performance.now() - started;
  await sleep(300);
  stop();
  const load = await loop;
  assert.deepEqual(
    { from: result.from, to: result.to, changed: result.changed },
    { from: 'green', to: 'blue', changed: true },
  );
  assert.equal(load.failures.length, 0, `no failed request: ${JSON.stringify(load.failures.slice(0, 3))}`);
  assert.ok((load.byRelease.green ?? 0) > 0 && (load.byRelease.blue ?? 0) > 0, 'both served');
  assert.ok(switchMs < 1000, `switched back in ${switchMs.toFixed(0)} ms`);
  assert.equal(releaseOf(await hit(`${env.url}/`)), 'blue');
});

void test('the engine down: rollback still switches to the warm container at once, 0 failed requests', async (t) => {
  const { env, home } = await dockerEnvironment(t);
  await env.deploy(fixtureSpec('blue', await fixtureArtifact(home, 'blue')));
  await env.activate('blue');
  await env.deploy(fixtureSpec('green', await fixtureArtifact(home, 'green')));
  await env.activate('green');
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  t.after(async () => {
    stop(); // the loop ends even when an assertion below fails
    await engineControl('engine-start');
  });
  const loop = loadLoop(`${env.url}/`, 4, true, until);
  await sleep(200);
  await engineControl('engine-stop'); // the loop keeps sending while the engine stops
  assert.equal(
    await docker.ping().then(
      () => 'answers',
      () => 'down',
    ),
    'down',
  );
  const started = performance.now();
  const result = await env.rollback('rb-engine-down');
  const switchMs = performance.now() - started;
  await sleep(300);
  stop();
  const load = await loop;
  await engineControl('engine-start');
  assert.deepEqual(
    { from: result.from, to: result.to, changed: result.changed },
    { from: 'green', to: 'blue', changed: true },
  );
  assert.equal(load.failures.length, 0, `no failed request: ${JSON.stringify(load.failures.slice(0, 3))}`);
  assert.ok((load.byRelease.blue ?? 0) > 0, 'blue served after the switch, the engine still down');
  console.log(`# engine down: rollback took ${switchMs.toFixed(0)} ms; ${load.requests} requests, 0 failed`);
  assert.ok(switchMs < 1000, `switched in ${switchMs.toFixed(0)} ms, not after the engine's retries`);
  assert.equal(releaseOf(await hit(`${env.url}/`)), 'blue');
});

void test('a container that dies is restarted by the engine, and the environment says so', async (t) => {
  const { env, home, key } = await dockerEnvironment(t);
  await env.deploy(fixtureSpec('r1', await fixtureArtifact(home, 'r1')));
  await env.activate('r1');
  const [container] = await containersOf(home, key);
  // A crash, as the kernel's OOM killer would do it (`docker kill` counts as stopped by hand).
  const { State } = await docker.getContainer(container!.Id).inspect();
  process.kill(State.Pid, 'SIGKILL');
  const deadline = Date.now() + 20_000;
  let status = await environmentStatus(home, key);
  while (!status.history.some((h) => h.event === 'restarted') && Date.now() < deadline) {
    await sleep(250);
    status = await environmentStatus(home, key);
  }
  const restarted = status.history.find((h) => h.event === 'restarted');
  assert.match(restarted?.detail ?? '', /engine's restart policy/);
  assert.equal(releaseOf(await hit(`${env.url}/`)), 'r1', 'serves again');
});

void test('after a supervisor SIGKILL the view comes back from the engine, even releases state.json lost', async (t) => {
  const { env, home, key } = await dockerEnvironment(t);
  await env.deploy(fixtureSpec('blue', await fixtureArtifact(home, 'blue')));
  await env.activate('blue');
  await env.deploy(fixtureSpec('green', await fixtureArtifact(home, 'green')));
  const paths = envPaths(home, key);
  const { pid } = JSON.parse(readFileSync(paths.pidFile, 'utf8')) as { pid: number };
  process.kill(pid, 'SIGKILL');
  // The journal keeps which release serves; what runs, where, and from which digest is the engine's.
  const state = JSON.parse(readFileSync(paths.state, 'utf8')) as EnvState;
  delete state.releases.green;
  writeFileSync(paths.state, JSON.stringify(state));
  while ((await hit(`${env.url}/`)).status !== null) await sleep(50); // the old proxy is gone
  assert.equal((await env.current())?.releaseId, 'blue');
  const status = await environmentStatus(home, key);
  assert.deepEqual(status.releases.map((r) => r.releaseId).sort(), ['blue', 'green']);
  assert.ok(
    status.history.some(
      (h) => h.event === 'adopted' && h.releaseId === 'green' && /engine/.test(h.detail ?? ''),
    ),
  );
  await env.activate('green');
  assert.equal(releaseOf(await hit(`${env.url}/`)), 'green', 'the adopted release takes traffic');
});

void test('an engine that does not answer: tried again, then a clear, retryable failure', async (t) => {
  const { env, home } = await dockerEnvironment(t, {
    docker: { engine: 'unix:///tmp/tollgate-no-engine.sock' },
  });
  const error = await env.deploy(fixtureSpec('r1', await fixtureArtifact(home, 'r1'))).then(
    () => assert.fail('deployed without an engine'),
    (err: LocalEnvironmentError) => err,
  );
  assert.equal(error.type, FailureType.EngineUnavailable);
  assert.match(
    error.message,
    /Docker engine at unix:\/\/\/tmp\/tollgate-no-engine\.sock does not answer .* after 3 tries: start dockerd/,
  );
});

void test('a release artifact missing on this worker is named as such, not as the engine', async (t) => {
  const { env, home } = await dockerEnvironment(t);
  const artifact = await fixtureArtifact(home, 'r1');
  rmSync(artifact.path);
  const error = await env.deploy(fixtureSpec('r1', artifact)).then(
    () => assert.fail('deployed an artifact that is not there'),
    (err: LocalEnvironmentError) => err,
  );
  assert.notEqual(error.type, FailureType.EngineUnavailable, error.message);
  assert.ok(error.message.includes(artifact.path), `names the file: ${error.message}`);
  assert.doesNotMatch(error.message, /does not answer|start dockerd/);
});

void test('an image that does not exist is named, and no retry is asked for', async (t) => {
  const missing = '127.0.0.1:5000/library/no-such-base:1';
  const { env, home, key } = await dockerEnvironment(t, { docker: { baseImage: missing } });
  const error = await env.deploy(fixtureSpec('r1', await fixtureArtifact(home, 'r1'))).then(
    () => assert.fail('deployed from a missing image'),
    (err: LocalEnvironmentError) => err,
  );
  assert.equal(error.type, FailureType.ImageNotFound);
  assert.match(
    error.message,
    /image 127\.0\.0\.1:5000\/library\/no-such-base:1 does not exist .*docker\.baseImage/,
  );
  // A published image whose digest the registry does not hold: the same.
  const artifact = await fixtureArtifact(home, 'r2');
  const ref = `127.0.0.1:5000/library/node@sha256:${'0'.repeat(64)}`;
  const pulled = await env
    .deploy(fixtureSpec('r2', { ...artifact, image: { path: '', digest: 'sha256:0', sizeBytes: 0, ref } }))
    .then(
      () => assert.fail('deployed a digest nobody has'),
      (err: LocalEnvironmentError) => err,
    );
  assert.equal(pulled.type, FailureType.ImageNotFound);
  assert.ok(pulled.message.includes(ref), pulled.message);
  assert.equal((await containersOf(home, key)).length, 0, 'nothing half-deployed');
});

void test('a container that exits at start fails the deploy with its last log lines, and is removed', async (t) => {
  const { env, home, key } = await dockerEnvironment(t);
  const error = await env
    .deploy(fixtureSpec('r1', await fixtureArtifact(home, 'r1'), { FAULT: 'crash' }))
    .then(
      () => assert.fail('a crashing release deployed'),
      (err: LocalEnvironmentError) => err,
    );
  assert.match(error.message, /release r1 exited before it was ready/);
  assert.match(error.logTail ?? '', /release r1 crashing on purpose/);
  assert.equal((await containersOf(home, key)).length, 0, 'nothing half-deployed');
});

void test('a host port taken while a release was parked: it comes back on another port', async (t) => {
  const { env, home } = await dockerEnvironment(t);
  await env.deploy(fixtureSpec('blue', await fixtureArtifact(home, 'blue')));
  await env.activate('blue');
  const blue = await env.current();
  await env.deploy(fixtureSpec('green', await fixtureArtifact(home, 'green')));
  await env.activate('green');
  assert.equal((await env.settle()).parked, 'blue');
  const squatter = createServer().listen(Number(new URL(blue!.url).port), '127.0.0.1');
  t.after(() => squatter.close());
  await once(squatter, 'listening');
  const result = await env.rollback('rb-port');
  assert.equal(result.to, 'blue');
  const back = await env.current();
  assert.notEqual(back!.url, blue!.url, 'made anew on another port');
  assert.equal(releaseOf(await hit(`${env.url}/`)), 'blue');
});

void test("the environment's own port taken by another program: the failure names it", async (t) => {
  const { env, home, port } = await dockerEnvironment(t);
  const squatter = createServer().listen(port, '127.0.0.1');
  t.after(() => squatter.close());
  await once(squatter, 'listening');
  await assert.rejects(env.deploy(fixtureSpec('r1', await fixtureArtifact(home, 'r1'))), (err: Error) => {
    assert.match(err.message, new RegExp(`port ${port}`));
    return true;
  });
});

void test('a published image is deployed by exactly its digest (what a Dagger build hands the environment)', async (t) => {
  // Publish a release image to the loopback registry, as the Dagger build does with TOLLGATE_IMAGE_REF.
  const source = await dockerEnvironment(t, { name: 'build' });
  await source.env.deploy(fixtureSpec('built', await fixtureArtifact(source.home, 'built')));
  const [built] = await containersOf(source.home, source.key);
  const repo = '127.0.0.1:5000/tollgate-test/fixture';
  const tag = `t${Date.now()}`;
  await docker.getImage(built!.ImageID).tag({ repo, tag });
  const pushed = await docker
    .getImage(`${repo}:${tag}`)
    .push({ authconfig: { serveraddress: '127.0.0.1:5000' } });
  const events = await new Promise<{ aux?: { Digest?: string }; error?: string }[]>((resolve, reject) =>
    docker.modem.followProgress(pushed, (err: Error | null, out: { aux?: { Digest?: string } }[]) =>
      err ? reject(err) : resolve(out),
    ),
  );
  const digest = events.find((e) => e.aux?.Digest)?.aux?.Digest;
  assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/, JSON.stringify(events.slice(-2)));
  const ref = `${repo}:${tag}@${digest}`;

  const { env, home, key } = await dockerEnvironment(t);
  const artifact = await fixtureArtifact(home, 'r2');
  await env.deploy(
    fixtureSpec('r2', { ...artifact, image: { path: '', digest: digest!, sizeBytes: 0, ref } }),
  );
  await env.activate('r2');
  assert.equal(releaseOf(await hit(`${env.url}/`)), 'r2');
  const [container] = await containersOf(home, key);
  const image = await docker.getImage(container!.ImageID).inspect();
  assert.ok(image.RepoDigests.includes(`${repo}@${digest}`), `runs ${ref}: ${image.RepoDigests.join(', ')}`);
  assert.equal(container!.Image, ref, 'created from the pinned reference, not a tag');
});

void test('after a reboot empties the tmpfs, a stopped environment starts again with its secrets', async (t) => {
  const { env, home, key } = await dockerEnvironment(t);
  const deployed = await env.deploy(fixtureSpec('r1', await fixtureArtifact(home, 'r1')));
  await env.activate('r1');
  await env.stop();
  const file = await secretsPath(envPaths(home, key).dir, 'r1');
  rmSync(dirname(file), { recursive: true, force: true }); // what a reboot does to /dev/shm
  assert.equal((await env.current())?.releaseId, 'r1', 'the next call brings the environment back');
  const digest = JSON.parse((await hit(`${env.url}/secret-digest`)).body) as { sha256: string };
  assert.equal(digest.sha256, createHash('sha256').update('not-a-real-secret').digest('hex'));
  assert.equal((statSync(dirname(file)).mode & 0o777).toString(8), '700', 'no other host user gets in');
  assert.match(deployed.url, /^http:/);
});

void test("the container's own healthcheck counts: unhealthy inside means an unhealthy environment", async (t) => {
  const { env, home } = await dockerEnvironment(t);
  await env.deploy(fixtureSpec('r1', await fixtureArtifact(home, 'r1'), { FAULT: 'unhealthy-inside' }));
  await env.activate('r1');
  assert.equal((await hit(`${env.url}/healthz`)).status, 200, 'the proxy sees it healthy');
  // The engine checks every 5 s after a 10 s start period, 3 failures in a row: about 25 s.
  const deadline = Date.now() + 60_000;
  let health = await env.health();
  while (health.ok && Date.now() < deadline) {
    await sleep(1000);
    health = await env.health();
  }
  assert.equal(health.ok, false);
  assert.equal(health.status, 200);
  assert.match(health.detail, /the container's healthcheck says unhealthy/);
});

void test('the engine restarted mid-deploy: the deploy fails named or finishes, its retry finishes, nothing half-switched', async (t) => {
  const { env, home, key } = await dockerEnvironment(t);
  const artifact = await fixtureArtifact(home, 'r1');
  const first = env.deploy(fixtureSpec('r1', artifact)).then(
    () => null,
    (err: LocalEnvironmentError) => err,
  );
  await sleep(200); // the build or the container start is under way
  await engineControl('engine-restart');
  const error = await first;
  console.log(
    `# engine restarted mid-deploy: ${error ? `${error.type}: ${error.message}` : 'the deploy finished'}`,
  );
  if (error)
    assert.ok(
      ([FailureType.EnvironmentFailed, FailureType.EngineUnavailable] as string[]).includes(error.type),
      `a retryable failure: ${error.type} ${error.message}`,
    );
  assert.equal(await env.current(), null, 'nothing was switched');
  await env.deploy(fixtureSpec('r1', artifact)); // what the activity's retry does
  await env.activate('r1');
  assert.equal(releaseOf(await hit(`${env.url}/`)), 'r1');
  assert.deepEqual(
    (await containersOf(home, key)).map((c) => c.Labels[LABEL.release]),
    ['r1'],
    'one container, no leftover',
  );
});
