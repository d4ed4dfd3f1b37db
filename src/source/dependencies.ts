/**
 * Installed dependencies that survive fresh checkouts: the config's `dependencies` (e.g.
 * node_modules keyed on package-lock.json) are saved once a stage has passed with them and restored
 * into later runs' workspaces while their key files are unchanged, so an install runs once per
 * lockfile instead of once per release. Entries are keyed by content, never trusted across keys.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import lockfile from 'proper-lockfile';
import type { DependencyPlan } from '../types.js';

const run = promisify(execFile);

/** How many entries per app and folder the store keeps; older ones are pruned as new ones arrive. */
export const KEEP_PER_FOLDER = 3;

/** One declared folder with the key its workspace computed when it was checked out. */
export interface DependencyState {
  path: string;
  key: string;
  /** Restored from the store into this workspace. */
  restored: boolean;
}

/**
 * The key of a folder: its path, the content of its key files as checked out, and the toolchain
 * that compiled it (platform, CPU, Node's ABI), so a native module is never restored elsewhere.
 */
export function dependencyKey(appDir: string, plan: DependencyPlan): string {
  const hash = createHash('sha256').update(
    `${plan.path}\0${process.platform}\0${process.arch}\0${process.versions.modules}\0`,
  );
  for (const file of [...plan.key].sort()) {
    const path = join(appDir, file);
    hash.update(`${file}\0`);
    hash.update(existsSync(path) ? readFileSync(path) : '(missing)');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** The store's entry for a key. */
function entryPath(store: string, app: string, plan: DependencyPlan, key: string): string {
  return join(store, app, `${plan.path.replace(/[^A-Za-z0-9._-]/g, '_')}-${key.slice(0, 24)}`);
}

/**
 * Computes each folder's key in a fresh workspace and remembers the keys beside it (for
 * `importDependencies` and `saveDependencies`); copies nothing: a run whose stages all come from the
 * stage result cache never needs its dependencies.
 */
export function planDependencies(
  workspace: { root: string; appDir: string },
  plans: DependencyPlan[],
): DependencyState[] {
  const states = plans.map((plan) => ({
    path: plan.path,
    key: dependencyKey(workspace.appDir, plan),
    restored: false,
  }));
  writeFileSync(statePath(workspace.root), `${JSON.stringify(states)}\n`);
  return states;
}

/**
 * Before a stage runs in the workspace: brings in each stored folder it lacks, under a lock (the
 * run's parallel stages ask at once), whole or not at all. Files are hard-linked from the store, as
 * pnpm links its store into node_modules, so a 120 MB tree arrives in well under a second; the
 * files package managers rewrite in place (npm's hidden lockfile, tool caches under `.cache`) are
 * copied. Returns the folders brought in.
 */
export async function importDependencies(
  store: string,
  app: string,
  workspace: { root: string; appDir: string },
  plans: DependencyPlan[],
): Promise<string[]> {
  const states = readStates(workspace.root);
  const imported: string[] = [];
  for (const plan of plans) {
    const state = states.find((s) => s.path === plan.path);
    if (!state) continue;
    const entry = entryPath(store, app, plan, state.key);
    const target = join(workspace.appDir, plan.path);
    if (!existsSync(entry) || existsSync(target)) continue;
    // Waits for a sibling stage that is bringing it in: this stage needs the folder too.
    const placed = await placeWhole(target, (draft) => linkTree(entry, draft), { wait: true });
    if (!placed) continue; // another stage of the run brought it in meanwhile
    touch(entry); // pruning goes by last use
    state.restored = true;
    imported.push(plan.path);
  }
  writeFileSync(statePath(workspace.root), `${JSON.stringify(states)}\n`);
  return imported;
}

/** Keys, then the stored folders at once (what a fresh workspace of a stage that runs gets). */
export async function restoreDependencies(
  store: string,
  app: string,
  workspace: { root: string; appDir: string },
  plans: DependencyPlan[],
): Promise<DependencyState[]> {
  planDependencies(workspace, plans);
  await importDependencies(store, app, workspace, plans);
  return readStates(workspace.root);
}

/**
 * After a stage passed: stores each declared folder the workspace now has and the store lacks,
 * under the key computed at checkout (a stage that rewrote the lockfile does not change it).
 * Returns the folders stored.
 */
export async function saveDependencies(
  store: string,
  app: string,
  workspace: { root: string; appDir: string },
  plans: DependencyPlan[],
): Promise<string[]> {
  const states = readStates(workspace.root);
  const saved: string[] = [];
  for (const plan of plans) {
    const state = states.find((s) => s.path === plan.path);
    if (state && (await storeDependency(store, app, workspace.appDir, plan, state.key)))
      saved.push(plan.path);
  }
  return saved;
}

/**
 * Stores `appDir/plan.path` under `key` (by default the key of the folder's key files now) unless
 * the store has it. One worker copies an entry at a time; it appears whole or not at all. True when stored.
 */
export async function storeDependency(
  store: string,
  app: string,
  appDir: string,
  plan: DependencyPlan,
  key = dependencyKey(appDir, plan),
): Promise<boolean> {
  const source = join(appDir, plan.path);
  const entry = entryPath(store, app, plan, key);
  if (!existsSync(source) || existsSync(entry)) return false;
  mkdirSync(join(entry, '..'), { recursive: true });
  // Another stage storing it right now: this one need not wait.
  const stored = await placeWhole(entry, (draft) => copyTree(source, draft), { wait: false });
  if (stored) prune(join(entry, '..'), plan);
  return stored;
}

/**
 * Makes `target` with `fill` beside it, then renames it into place, under a cross-process lock: it
 * appears whole or not at all. False when it was there already, or (`wait: false`) when another
 * process holds the lock.
 */
async function placeWhole(
  target: string,
  fill: (draft: string) => Promise<void>,
  { wait }: { wait: boolean },
): Promise<boolean> {
  const retries = wait ? { retries: 600, minTimeout: 100, maxTimeout: 200 } : 0;
  const release = await lockfile
    .lock(target, { realpath: false, stale: 120_000, retries })
    .catch((error: unknown) => {
      if (wait) throw error;
      return undefined;
    });
  if (!release) return false;
  try {
    if (existsSync(target)) return false;
    const draft = `${target}.partial-${randomUUID().slice(0, 8)}`;
    try {
      await fill(draft);
      renameSync(draft, target);
    } finally {
      rmSync(draft, { recursive: true, force: true });
    }
    return true;
  } finally {
    await release();
  }
}

/**
 * `cp -al`: the tree's folders made anew, its files hard links to the store's; then the files that
 * tools rewrite in place (which would change the store's copy too) replaced by copies of their own.
 */
async function linkTree(from: string, to: string): Promise<void> {
  if (process.platform !== 'linux') return copyTree(from, to);
  await run('cp', ['-al', from, to], { maxBuffer: 1024 * 1024 });
  const { stdout } = await run(
    'find',
    [to, '-type', 'f', '(', '-name', '.package-lock.json', '-o', '-path', '*/.cache/*', ')', '-print0'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  for (const file of stdout.split('\0').filter(Boolean)) {
    const bytes = readFileSync(file);
    const mode = statSync(file).mode;
    rmSync(file);
    writeFileSync(file, bytes, { mode });
  }
}

/** `cp -a` (copy-on-write where the file system can): GNU cp is several times faster than fs.cp on big trees. */
async function copyTree(from: string, to: string): Promise<void> {
  const args = process.platform === 'linux' ? ['-a', '--reflink=auto', from, to] : ['-a', from, to];
  await run('cp', args, { maxBuffer: 1024 * 1024 });
}

function prune(dir: string, plan: DependencyPlan): void {
  const prefix = `${plan.path.replace(/[^A-Za-z0-9._-]/g, '_')}-`;
  const entries = readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && !name.includes('.partial-') && !name.endsWith('.lock'))
    .map((name) => ({ path: join(dir, name), used: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const stale of entries.slice(KEEP_PER_FOLDER)) rmSync(stale.path, { recursive: true, force: true });
}

function touch(path: string): void {
  const now = new Date();
  utimesSync(path, now, now);
}

function statePath(root: string): string {
  return `${root}.dependencies.json`;
}

function readStates(root: string): DependencyState[] {
  try {
    return JSON.parse(readFileSync(statePath(root), 'utf8')) as DependencyState[];
  } catch {
    return [];
  }
}
