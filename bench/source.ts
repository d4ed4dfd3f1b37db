/**
 * What it costs a worker to give a run its source: fetching the commit into the mirror (cold, and
 * warm when the mirror has it), checking it out into a run's workspace and verifying it against the
 * commit's tree, and restoring the sample app's node_modules from the dependency cache instead of
 * installing them. The repository is this one, at HEAD; the app folder is examples/saas-app.
 *
 *   node dist/bench/source.js [--runs 5] [--skip-install] [--markdown FILE]
 *
 * `--skip-install` leaves out the cold `npm ci` of the sample app (about two minutes on 2 cores),
 * which is the figure the cache saves. Prints figures; asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { restoreDependencies, storeDependency } from '../src/source/dependencies.js';
import { ensureCommit } from '../src/source/mirror.js';
import { materializeWorkspace, removeWorkspace, workspacePath } from '../src/source/workspace.js';
import type { DependencyPlan } from '../src/types.js';
import { APP_DIR } from '../test/support/delivery.js';
import { ROOT, tempDir } from '../test/support/temporal.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'skip-install': { type: 'boolean', default: false },
    markdown: { type: 'string' },
  },
});
const runs = Number(values.runs);

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

const git = (...args: string[]): string =>
  execFileSync('git', ['-C', ROOT, ...args])
    .toString()
    .trim();
const commit = git('rev-parse', 'HEAD');
const files = git('ls-tree', '-r', '--name-only', 'HEAD').split('\n').length;
const source = { repository: ROOT, commit, subdir: 'examples/saas-app' };
const plan: DependencyPlan = { path: 'node_modules', key: ['package-lock.json'] };

const rows: [string, string, string][] = [];
const add = (what: string, samples: number[], note: string): void => {
  const figure =
    samples.length === 1
      ? `${samples[0]!.toFixed(0)} ms`
      : `${median(samples).toFixed(1)} ms (median of ${samples.length})`;
  rows.push([what, figure, note]);
  console.log(`${what}: ${figure} — ${note}`);
};

// Fetch: a new mirror each time (cold), then the same mirror again (warm: no network, no git fetch).
const cold: number[] = [];
const warm: number[] = [];
for (let i = 0; i < runs; i++) {
  const home = tempDir('bench-source');
  cold.push(await timed(() => ensureCommit(home, source)));
  warm.push(await timed(() => ensureCommit(home, source)));
  rmSync(home, { recursive: true, force: true });
}
add('fetch into a new mirror', cold, `this repository (${files} files at HEAD) from a local path`);
add('fetch, mirror has the commit', warm, 'one `git cat-file`; no fetch');

// Checkout + verify: a run's workspace from the warm mirror, then removed.
const home = tempDir('bench-source');
const { mirror } = await ensureCommit(home, source);
const checkouts: number[] = [];
for (let i = 0; i < runs; i++) {
  const path = workspacePath(home, 'saas-app', `run-${i}`);
  checkouts.push(await timed(() => materializeWorkspace(path, mirror, source)));
  removeWorkspace(path);
}
add(
  'checkout + verify against the tree',
  checkouts,
  `${files} files, hashed and compared with the commit's tree`,
);

// Dependencies: the sample's node_modules restored from the cache into a fresh workspace.
if (!existsSync(join(APP_DIR, 'node_modules/.package-lock.json'))) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: APP_DIR,
    stdio: 'ignore',
  });
}
const store = join(home, 'cache');
await storeDependency(store, 'saas-app', APP_DIR, plan);
const restores: number[] = [];
for (let i = 0; i < runs; i++) {
  const path = workspacePath(home, 'saas-app', `deps-${i}`);
  const workspace = await materializeWorkspace(path, mirror, source);
  restores.push(await timed(() => restoreDependencies(store, 'saas-app', workspace, [plan])));
  removeWorkspace(path);
}
add(
  'restore node_modules from the cache',
  restores,
  'the sample app (better-sqlite3 compiled): hard links (`cp -al`), hidden lockfiles copied',
);

if (!values['skip-install']) {
  const path = workspacePath(home, 'saas-app', 'install');
  const workspace = await materializeWorkspace(path, mirror, source);
  // The npm cache is warm (the sample was installed before): this is the compile and copy, not the download.
  const install = await timed(() =>
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: workspace.appDir,
      stdio: 'ignore',
    }),
  );
  add('`npm ci` instead (what the cache saves)', [install], 'npm cache warm; compiles better-sqlite3');
  removeWorkspace(path);
}
rmSync(home, { recursive: true, force: true });

if (values.markdown) {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  writeFileSync(
    values.markdown,
    [line(['step', 'time', 'what']), line(['---', '---', '---']), ...rows.map(line)].join('\n') + '\n',
  );
}
