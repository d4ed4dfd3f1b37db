/**
 * The stage result cache on real files, and the host runner serving from it: what changes the key,
 * what a hit brings back (the run it came from, the log, the artifact by digest), what never hits
 * (a damaged artifact, a pruned blob), and the size bound.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/load.js';
import { HostRunner } from '../../src/runners/host.js';
import { StageCache, stageCacheKey, type StageKeyInput } from '../../src/runners/stage-cache.js';
import { hostToolchain } from '../../src/runners/toolchain.js';
import type { StageRunContext } from '../../src/runners/types.js';
import type { CommandPlan, StageResult } from '../../src/types.js';
import { fixtureRepo } from '../support/stages.js';
import { ROOT } from '../support/temporal.js';

function scratch(t: TestContext): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tollgate-stage-cache-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function plan(overrides: Partial<CommandPlan> = {}): CommandPlan {
  return {
    name: 'test-suite',
    image: 'node:20',
    steps: [{ run: ['sh', '-c', 'echo ran >> "$MARKER"; echo tests passed'], env: {} }],
    env: {},
    secrets: [],
    cache: true,
    cacheResult: true,
    timeoutMs: 30_000,
    retry: { initialIntervalMs: 100, backoffCoefficient: 1, maximumIntervalMs: 100, maximumAttempts: 1 },
    retryableExitCodes: [],
    ...overrides,
  };
}

const TREE = 'a'.repeat(40);
const base = (overrides: Partial<StageKeyInput> = {}): StageKeyInput => ({
  plan: plan(),
  tree: TREE,
  runner: 'host',
  identity: { 'bin:sh': '/usr/bin/sh 1 2' },
  ...overrides,
});

function context(runDir: string, sourceDir: string, cache?: StageCache, key?: string): StageRunContext {
  return {
    runId: 'release-app',
    attempt: 1,
    sourceDir,
    runDir,
    secrets: {},
    signal: new AbortController().signal,
    ...(cache && key ? { reuse: () => cache.lookup(key, runDir) } : {}),
  };
}

describe('stage result cache', () => {
  it('the key changes with the tree, the steps, the env, secret names, the image, the toolchain and the runner; not with retries or timeouts', () => {
    const key = stageCacheKey(base());
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(stageCacheKey(base()), key, 'the same input, the same key');
    const changed: [string, StageKeyInput][] = [
      ['a lockfile changed (another tree)', base({ tree: 'b'.repeat(40) })],
      ['another step', base({ plan: plan({ steps: [{ run: ['npm', 'test'], env: {} }] }) })],
      ['a step env', base({ plan: plan({ steps: [{ run: ['npm', 'test'], env: { CI: '1' } }] }) })],
      ['the stage env', base({ plan: plan({ env: { NODE_ENV: 'test' } }) })],
      ['a secret name', base({ plan: plan({ secrets: ['STRIPE_SECRET_KEY'] }) })],
      ['the image', base({ plan: plan({ image: 'node:22' }) })],
      ['an image digest', base({ runner: 'dagger', identity: { 'image:node:20': 'node:20@sha256:1' } })],
      ['the toolchain', base({ identity: { 'bin:sh': '/usr/bin/sh 1 3' } })],
      ['the runner', base({ runner: 'dagger' })],
      ['the coverage gate', base({ plan: plan({ coverageMinimum: 90 }) })],
    ];
    for (const [what, input] of changed) assert.notEqual(stageCacheKey(input), key, `${what} misses`);
    const retried = plan({
      retry: { initialIntervalMs: 5, backoffCoefficient: 3, maximumIntervalMs: 9, maximumAttempts: 7 },
      timeoutMs: 1,
    });
    assert.equal(stageCacheKey(base({ plan: retried })), key, 'retry policy and timeout are not inputs');
    assert.equal(
      stageCacheKey(base({ plan: plan({ env: { B: '2', A: '1' } }) })),
      stageCacheKey(base({ plan: plan({ env: { A: '1', B: '2' } }) })),
      'key order does not matter',
    );
  });

  it('the host toolchain names each program the steps start, with node, by real path, size and mtime', () => {
    const identity = hostToolchain(
      plan({
        steps: [
          { run: ['sh', '-c', 'true'], env: {} },
          { run: ['./x.sh'], env: {} },
        ],
      }),
    );
    assert.match(identity['bin:sh']!, /^\/\S+ \d+ \d+$/);
    assert.match(identity['bin:node']!, /^\/\S+ \d+ \d+$/);
    assert.equal(identity['bin:./x.sh'], 'in the source tree');
    assert.equal(
      hostToolchain(plan({ steps: [{ run: ['no-such-tool-xyz'], env: {} }] }))['bin:no-such-tool-xyz'],
      'missing',
    );
  });

  it('a passed host stage is served to the next run: nothing runs, the log names the run it came from', async (t) => {
    const dir = scratch(t);
    const source = join(dir, 'src');
    mkdirSync(source);
    const marker = join(dir, 'marker');
    const cache = StageCache.under(join(dir, 'home'));
    const runner = new HostRunner();
    const stage = plan({ env: { MARKER: marker } });
    const key = stageCacheKey(base({ plan: stage }));

    assert.equal(await cache.lookup(key, join(dir, 'run-1')), undefined, 'empty: a miss');
    const first = await runner.runStage(stage, context(join(dir, 'run-1'), source, cache, key));
    assert.equal(first.cached, undefined);
    await cache.store(key, first, { workflowId: 'release-app', runId: 'run-one' });

    const second = await runner.runStage(stage, context(join(dir, 'run-2'), source, cache, key));
    assert.equal(readFileSync(marker, 'utf8'), 'ran\n', 'the step ran once');
    assert.deepEqual(
      { workflowId: second.cached?.workflowId, runId: second.cached?.runId, key: second.cached?.key },
      { workflowId: 'release-app', runId: 'run-one', key },
    );
    assert.equal(second.cached?.at, first.endedAt);
    assert.match(second.summary, /^cached: 1 step\(s\) passed in .* \(from release-app\)$/);
    const log = readFileSync(second.logPath, 'utf8');
    assert.equal(second.logPath, join(dir, 'run-2', 'test-suite.log'));
    assert.match(log, /served from the stage result cache .* it passed in run release-app\/run-one/);
    assert.match(log, /tests passed/, "the log holds that run's output");
  });

  it('an artifact comes back by digest into the new run; a damaged or pruned one is never served', async (t) => {
    const dir = scratch(t);
    const cache = StageCache.under(join(dir, 'home'));
    const runDir = join(dir, 'run-1');
    mkdirSync(runDir);
    writeFileSync(join(runDir, 'release.tgz'), 'tarball bytes');
    writeFileSync(join(runDir, 'sbom.cdx.json'), '{}\n');
    writeFileSync(join(runDir, 'build.log'), 'built\n');
    const digest = `sha256:${createHash('sha256').update('tarball bytes').digest('hex')}`;
    const result: StageResult = {
      name: 'build',
      runner: 'host',
      attempt: 1,
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      durationMs: 1200,
      exitCode: 0,
      summary: '1 step(s) passed; artifact …',
      logTail: 'built',
      logPath: join(runDir, 'build.log'),
      artifact: {
        kind: 'tarball',
        path: join(runDir, 'release.tgz'),
        sbomPath: join(runDir, 'sbom.cdx.json'),
        digest,
        sizeBytes: 13,
      },
    };
    await cache.store('k'.repeat(64), result, { workflowId: 'release-app', runId: 'r1' });
    rmSync(runDir, { recursive: true }); // the first run's files are discarded: the cache has its own

    const hit = await cache.lookup('k'.repeat(64), join(dir, 'run-2'));
    assert.ok(hit?.artifact);
    assert.equal(hit.artifact.path, join(dir, 'run-2', 'release.tgz'));
    assert.equal(hit.artifact.digest, digest);
    assert.equal(readFileSync(hit.artifact.path, 'utf8'), 'tarball bytes');
    assert.equal(readFileSync(hit.artifact.sbomPath!, 'utf8'), '{}\n');

    const blob = join(cache.dir, 'blobs', digest.slice('sha256:'.length));
    writeFileSync(blob, 'tampered bytes');
    assert.equal(
      await cache.lookup('k'.repeat(64), join(dir, 'run-3')),
      undefined,
      'a damaged artifact misses',
    );
    rmSync(blob);
    assert.equal(await cache.lookup('k'.repeat(64), join(dir, 'run-3')), undefined, 'a pruned blob misses');
  });

  it('stays within its size bound, dropping the least recently used entries and their blobs', async (t) => {
    const dir = scratch(t);
    const runDir = join(dir, 'run');
    mkdirSync(runDir);
    const cache = new StageCache(join(dir, 'cache'), 4_000);
    const stored = async (name: string, bytes: number): Promise<void> => {
      const logPath = join(runDir, `${name}.log`);
      writeFileSync(logPath, name.repeat(bytes / name.length));
      await cache.store(
        name.padEnd(64, '0'),
        {
          name,
          runner: 'host',
          attempt: 1,
          startedAt: new Date().toISOString(),
          endedAt: new Date().toISOString(),
          durationMs: 1,
          exitCode: 0,
          summary: 'ok',
          logTail: '',
          logPath,
        },
        { workflowId: 'w', runId: name },
      );
    };
    // Apart in time: last use is a file time, kept to the millisecond.
    await stored('a', 1_500);
    await sleep(20);
    await stored('b', 1_500);
    await sleep(20);
    assert.ok(await cache.lookup('a'.padEnd(64, '0'), runDir), 'a is used again: now the newest');
    await sleep(20);
    await stored('c', 1_500);
    assert.equal(await cache.lookup('b'.padEnd(64, '0'), runDir), undefined, 'b, least recently used, went');
    assert.ok(await cache.lookup('a'.padEnd(64, '0'), runDir));
    assert.ok(await cache.lookup('c'.padEnd(64, '0'), runDir));
    const left = cache.prune();
    assert.ok(left.bytes <= 4_000, `${left.bytes} bytes left`);
    assert.ok(!existsSync(join(cache.dir, 'entries', `${'b'.padEnd(64, '0')}.json`)));
    assert.ok(statSync(cache.dir).isDirectory());
  });

  it('which stages the config lets the cache serve: not the health stage, not one with secrets, unless cache: true', async (t) => {
    const sample = await loadConfig('tollgate.config.ts', ROOT);
    const served = Object.fromEntries(sample.stages.map((p) => [p.name, p.cacheResult]));
    assert.equal(served['quick-health-check'], false, 'the health stage checks the world now');
    assert.equal(served['test-suite'], true);
    assert.equal(served['build-production-image'], true);
    const dir = scratch(t);
    fixtureRepo(dir);
    writeFileSync(
      join(dir, 'tollgate.config.ts'),
      `export default { app: 'x', stages: {
        plain: { steps: [['true']] },
        keyed: { steps: [['true']], secrets: ['API_TOKEN'] },
        trusted: { steps: [['true']], secrets: ['API_TOKEN'], cache: true },
        never: { steps: [['true']], cache: false },
      } };\n`,
    );
    const own = await loadConfig('tollgate.config.ts', dir);
    assert.deepEqual(
      own.stages.map((p) => [p.name, p.cacheResult, p.cache]),
      [
        ['plain', true, true],
        ['keyed', false, true],
        ['trusted', true, true],
        ['never', false, false],
      ],
    );
  });
});
