/**
 * Lean packing with real files in temp dirs: the production file set read off a hand-written
 * package-lock.json, the streamed reproducible tarball, and the copy that is still made otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { HostRunner, packDirectory } from '../../src/runners/host.js';
import { isLockfileSbom, isProductionInstall, listTree, planPack } from '../../src/runners/pack.js';
import type { StageRunContext } from '../../src/runners/types.js';
import type { ArtifactPlan, StagePlan } from '../../src/types.js';

const BOUNDED = { timeout: 30_000 };
const INCLUDE = ['dist', 'package.json', 'package-lock.json', 'node_modules'];
const PRUNE = ['npm', 'prune', '--omit=dev', '--no-audit', '--no-fund'];
const SBOM = ['npm', 'sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev', '--package-lock-only'];

/**
 * A v3 lockfile: prod, dev (with a nested dev dep), nested prod, scoped, optional (not installed) and
 * devOptional (a dev dependency that a prod package also has as an optional one, so `--omit=dev` keeps it).
 */
const LOCKFILE = {
  name: 'app',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': {
      name: 'app',
      version: '1.0.0',
      dependencies: { 'prod-a': '^1.0.0', '@scope/c': '^1.0.0' },
      devDependencies: { 'dev-b': '^1.0.0', '@devscope/e': '^1.0.0', 'opt-f': '^1.0.0' },
      optionalDependencies: { 'not-installed': '^1.0.0' },
    },
    'node_modules/prod-a': {
      version: '1.0.0',
      bin: { 'prod-cli': 'bin.js' },
      dependencies: { 'nested-d': '2' },
      optionalDependencies: { 'opt-f': '^1.0.0' },
    },
    'node_modules/prod-a/node_modules/nested-d': { version: '2.0.0' },
    'node_modules/@scope/c': { version: '1.0.0' },
    'node_modules/dev-b': {
      version: '1.0.0',
      dev: true,
      bin: { 'dev-cli': 'cli.js' },
      dependencies: { 'dev-nested': '1' },
    },
    'node_modules/dev-b/node_modules/dev-nested': { version: '1.0.0', dev: true },
    'node_modules/@devscope/e': { version: '1.0.0', dev: true },
    'node_modules/opt-f': { version: '1.0.0', devOptional: true },
    'node_modules/not-installed': { version: '1.0.0', optional: true },
  },
};

/** What `npm prune --omit=dev` leaves of the fixture (the empty @devscope folder too), in byte order. */
const EXPECTED = [
  '.',
  './dist',
  './dist/a',
  './dist/a-b.js',
  './dist/a/x.js',
  './dist/index.js',
  './node_modules',
  './node_modules/.bin',
  './node_modules/.bin/prod-cli',
  './node_modules/@devscope',
  './node_modules/@scope',
  './node_modules/@scope/c',
  './node_modules/@scope/c/index.js',
  './node_modules/@scope/c/package.json',
  './node_modules/opt-f',
  './node_modules/opt-f/package.json',
  './node_modules/prod-a',
  './node_modules/prod-a/bin.js',
  './node_modules/prod-a/node_modules',
  './node_modules/prod-a/node_modules/nested-d',
  './node_modules/prod-a/node_modules/nested-d/package.json',
  './node_modules/prod-a/package.json',
  './package-lock.json',
  './package.json',
];

interface Fixture {
  root: string;
  sourceDir: string;
}

/** A built project in a temp dir: dist, a lockfile and the node_modules an `npm ci` would leave, plus a stray folder. */
function fixture(t: TestContext): Fixture {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'tollgate-pack-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const sourceDir = join(root, 'app');
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(sourceDir, path)), { recursive: true });
    writeFileSync(join(sourceDir, path), text);
  };
  const manifest = (name: string, version: string, more: object = {}): string =>
    `${JSON.stringify({ name, version, ...more })}\n`;
  const { dependencies, devDependencies, optionalDependencies } = LOCKFILE.packages[''];
  write(
    'package.json',
    `${JSON.stringify({ name: 'app', version: '1.0.0', dependencies, devDependencies, optionalDependencies })}\n`,
  );
  write('package-lock.json', `${JSON.stringify(LOCKFILE, null, 2)}\n`);
  write('not-shipped.txt', 'left out\n');
  write('dist/index.js', 'console.log(1);\n');
  write('dist/a/x.js', 'export {};\n');
  write('dist/a-b.js', 'export {};\n');
  const {
    bin,
    dependencies: prodADependencies,
    optionalDependencies: prodAOptional,
  } = LOCKFILE.packages['node_modules/prod-a'];
  write(
    'node_modules/prod-a/package.json',
    manifest('prod-a', '1.0.0', {
      bin,
      dependencies: prodADependencies,
      optionalDependencies: prodAOptional,
    }),
  );
  write('node_modules/prod-a/bin.js', '#!/usr/bin/env node\n');
  chmodSync(join(sourceDir, 'node_modules/prod-a/bin.js'), 0o755);
  write('node_modules/prod-a/node_modules/nested-d/package.json', manifest('nested-d', '2.0.0'));
  write('node_modules/@scope/c/package.json', manifest('@scope/c', '1.0.0'));
  write('node_modules/@scope/c/index.js', 'module.exports = 1;\n');
  write(
    'node_modules/dev-b/package.json',
    manifest('dev-b', '1.0.0', { bin: { 'dev-cli': 'cli.js' }, dependencies: { 'dev-nested': '1' } }),
  );
  write('node_modules/dev-b/cli.js', '#!/usr/bin/env node\n');
  write('node_modules/dev-b/node_modules/dev-nested/package.json', manifest('dev-nested', '1.0.0'));
  write('node_modules/@devscope/e/package.json', manifest('@devscope/e', '1.0.0'));
  write('node_modules/opt-f/package.json', manifest('opt-f', '1.0.0'));
  write('node_modules/stray/package.json', manifest('stray', '0.0.1'));
  // npm's hidden lockfile: the installed tree, dev packages included.
  const { '': _root, 'node_modules/not-installed': _missing, ...installed } = LOCKFILE.packages;
  write('node_modules/.package-lock.json', `${JSON.stringify({ ...LOCKFILE, packages: installed })}\n`);
  mkdirSync(join(sourceDir, 'node_modules/.bin'));
  symlinkSync('../prod-a/bin.js', join(sourceDir, 'node_modules/.bin/prod-cli'));
  symlinkSync('../dev-b/cli.js', join(sourceDir, 'node_modules/.bin/dev-cli'));
  return { root, sourceDir };
}

function stagePlan(artifact: ArtifactPlan): StagePlan {
  return {
    name: 'package',
    needs: [],
    image: 'node:20-slim',
    env: {},
    secrets: [],
    cache: false,
    timeoutMs: 30_000,
    retry: { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 10_000, maximumAttempts: 1 },
    retryableExitCodes: [],
    steps: [],
    artifact,
  };
}

function context(fx: Fixture, runDir: string): StageRunContext {
  return {
    runId: 'run-under-test',
    attempt: 1,
    sourceDir: fx.sourceDir,
    runDir: join(fx.root, runDir),
    secrets: {},
    signal: new AbortController().signal,
  };
}

/** `tar -tv` of a .tgz as `<mode> <name>[ -> <target>]`, trailing slashes of directories dropped. */
function listing(tarball: string): string[] {
  return execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mode, , , , , ...name] = line.split(/\s+/);
      return `${mode} ${name.join(' ').replace(/\/$/, '')}`;
    });
}

const names = (tarball: string): string[] => listing(tarball).map((line) => line.split(' ')[1]!);

void test('the install and sbom commands that allow a lockfile pack are recognised precisely', () => {
  for (const argv of [
    PRUNE,
    ['npm', 'prune', '--omit', 'dev'],
    ['npm', 'ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'],
  ])
    assert.ok(isProductionInstall(argv), argv.join(' '));
  for (const argv of [
    ['npm', 'prune'],
    ['npm', 'ci'],
    ['npm', 'install', '--omit=dev'],
    ['npm', 'prune', '--omit=dev', '--omit=optional'],
    ['npm', 'prune', '--omit=dev', '--include=dev'],
    ['npm', 'ci', '--production'],
    ['pnpm', 'prune', '--omit=dev'],
    ['/usr/bin/npm', 'ci', '--omit=dev'],
    ['true'],
  ])
    assert.ok(!isProductionInstall(argv), argv.join(' '));

  assert.ok(isLockfileSbom(SBOM));
  assert.ok(isLockfileSbom(['npm', 'sbom', '--package-lock-only', '--sbom-format=spdx', '--omit=dev']));
  for (const argv of [
    ['npm', 'sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev'],
    ['npm', 'sbom', '--package-lock-only', '--workspaces'],
    ['npm', 'sbom', '--package-lock-only', '--omit'],
    ['sh', '-c', 'echo {}'],
  ])
    assert.ok(!isLockfileSbom(argv), argv.join(' '));
});

void test('the production file set comes from the lockfile: dev, extraneous and dev .bin links left out', async (t) => {
  const fx = fixture(t);
  const plan = await planPack(fx.sourceDir, { include: INCLUDE, install: PRUNE, sbom: SBOM });
  assert.equal(plan.kind, 'lockfile', plan.kind === 'copy' ? plan.reason : '');
  if (plan.kind !== 'lockfile') return;
  assert.deepEqual(plan.fileSet.entries, EXPECTED);
  assert.deepEqual(
    {
      files: plan.fileSet.files,
      productionPackages: plan.fileSet.productionPackages,
      devPackages: plan.fileSet.devPackages,
      extraneous: plan.fileSet.extraneous,
    },
    // prod-a, nested-d, @scope/c, opt-f kept; dev-b (with dev-nested inside) and @devscope/e left out; stray.
    { files: 12, productionPackages: 4, devPackages: 2, extraneous: 1 },
  );
});

void test(
  'a lockfile pack streams a reproducible tarball of exactly the production files, with its digest and SBOM',
  BOUNDED,
  async (t) => {
    const fx = fixture(t);
    const runner = new HostRunner();
    const artifact = { include: INCLUDE, install: PRUNE, sbom: SBOM };
    const first = await runner.runStage(stagePlan(artifact), context(fx, 'run-1'));
    const second = await runner.runStage(stagePlan(artifact), context(fx, 'run-2'));
    const [one, two] = [first.artifact!, second.artifact!];

    const log = readFileSync(first.logPath, 'utf8');
    assert.match(
      log,
      /packing from the lockfile: 12 files, 4 production packages, 2 dev packages left out, 1 folder\(s\) the lockfile does not list left out/,
    );
    assert.ok(!existsSync(join(fx.root, 'run-1', 'artifact')), 'no copy is made');
    for (const packed of [one, two]) {
      const bytes = readFileSync(packed.path);
      assert.equal(packed.digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
      assert.equal(packed.sizeBytes, bytes.length);
    }
    assert.ok(readFileSync(one.path).equals(readFileSync(two.path)), 'two packs give the same bytes');
    assert.deepEqual(names(one.path), EXPECTED);
    const modes = listing(one.path);
    assert.ok(modes.includes('-rwxr-xr-x ./node_modules/prod-a/bin.js'), 'file modes are kept');
    assert.ok(modes.includes('drwxr-xr-x ./node_modules/prod-a'), 'directories are entries with their modes');
    assert.ok(
      modes.includes('lrwxrwxrwx ./node_modules/.bin/prod-cli -> ../prod-a/bin.js'),
      'a .bin link stays a relative link',
    );

    const sbom = JSON.parse(readFileSync(one.sbomPath!, 'utf8')) as { components?: { name: string }[] };
    const components = (sbom.components ?? []).map((component) => component.name).sort();
    assert.ok(
      components.includes('prod-a'),
      `the SBOM lists the production packages: ${components.join(' ')}`,
    );
    assert.ok(!components.includes('dev-b'), 'the SBOM leaves the dev packages out');
  },
);

void test(
  'anything else is packed from a copy, as before: here an install that is not npm',
  BOUNDED,
  async (t) => {
    const fx = fixture(t);
    const result = await new HostRunner().runStage(
      stagePlan({ include: INCLUDE, install: ['true'], sbom: ['sh', '-c', 'echo {}'] }),
      context(fx, 'run'),
    );
    assert.match(
      readFileSync(result.logPath, 'utf8'),
      /packing a copy \(install: true\): not an npm production install/,
    );
    const entries = names(result.artifact!.path);
    // Nothing pruned it: the dev package, the stray folder and npm's hidden lockfile are all there.
    for (const path of [
      './node_modules/dev-b/cli.js',
      './node_modules/stray',
      './node_modules/.package-lock.json',
    ])
      assert.ok(entries.includes(path), `the copy holds ${path}`);
    assert.ok(!entries.includes('./not-shipped.txt'));
    assert.ok(!existsSync(join(fx.root, 'run', 'artifact')), 'the copy is removed once packed');
    assert.equal(readFileSync(result.artifact!.sbomPath!, 'utf8'), '{}\n');
  },
);

void test('a lockfile that cannot vouch for node_modules sends the pack to a copy, saying why', async (t) => {
  const artifact = { include: INCLUDE, install: PRUNE, sbom: SBOM };
  const cases: [string, (sourceDir: string) => void, RegExp][] = [
    ['no lockfile', (dir) => rmSync(join(dir, 'package-lock.json')), /no package-lock\.json/],
    [
      'a v1 lockfile',
      (dir) => writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 1 })),
      /lockfileVersion 1/,
    ],
    [
      'a package of another version than the lockfile says',
      (dir) => writeFileSync(join(dir, 'node_modules/opt-f/package.json'), '{ "version": "9.9.9" }'),
      /node_modules\/opt-f is 9\.9\.9 on disk, 1\.0\.0 in the lockfile/,
    ],
    [
      'a production package missing from node_modules',
      (dir) => rmSync(join(dir, 'node_modules/@scope/c'), { recursive: true }),
      /node_modules\/@scope\/c is in the lockfile but not in node_modules/,
    ],
  ];
  for (const [what, spoil, reason] of cases) {
    const fx = fixture(t);
    spoil(fx.sourceDir);
    const plan = await planPack(fx.sourceDir, artifact);
    assert.equal(plan.kind, 'copy', what);
    if (plan.kind === 'copy') assert.match(plan.reason, reason, what);
  }
  const fx = fixture(t);
  const withoutModules = await planPack(fx.sourceDir, { ...artifact, include: ['dist', 'package.json'] });
  assert.equal(withoutModules.kind, 'copy', 'npm ci or prune would have to install node_modules');
});

void test('packDirectory packs a whole directory in byte order, reproducibly, and removes it', async (t) => {
  const fx = fixture(t);
  const pack = async (name: string): Promise<{ path: string; digest: string; sizeBytes: number }> => {
    const dir = join(fx.root, name);
    execFileSync('cp', ['-a', join(fx.sourceDir, 'dist'), dir]);
    const packed = await packDirectory(dir, join(fx.root, `${name}.tgz`));
    assert.ok(!existsSync(dir), 'the directory is removed');
    return packed;
  };
  const first = await pack('one');
  const second = await pack('two');
  assert.equal(first.digest, `sha256:${createHash('sha256').update(readFileSync(first.path)).digest('hex')}`);
  assert.equal(first.digest, second.digest);
  assert.deepEqual(names(first.path), ['.', './a', './a-b.js', './a/x.js', './index.js']);
  assert.deepEqual(await listTree(join(fx.sourceDir, 'dist')), [
    '.',
    './a',
    './a-b.js',
    './a/x.js',
    './index.js',
  ]);
});
