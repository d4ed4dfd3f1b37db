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
 * Computes each folder's key in a fresh workspace and copies the stored entry in when there is one.
 * Returns what it did, and remembers the keys beside the workspace for `saveDependencies`.
 */
export async function restoreDependencies(
  store: string,
  app: string,
  workspace: { root: string; appDir: string },
  plans: DependencyPlan[],
): Promise<DependencyState[]> {
  const states: DependencyState[] = [];
  for (const plan of plans) {
    const key = dependencyKey(workspace.appDir, plan);
    const entry = entryPath(store, app, plan, key);
    const target = join(workspace.appDir, plan.path);
    const restored = existsSync(entry) && !existsSync(target);
    if (restored) {
      await copyTree(entry, target);
      touch(entry); // pruning goes by last use
    }
    states.push({ path: plan.path, key, restored });
  }
  writeFileSync(statePath(workspace.root), `${JSON.stringify(states)}\n`);
  return states;
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
  const release = await lockfile.lock(entry, { realpath: false, stale: 120_000 }).catch(() => undefined);
  if (!release) return false; // another stage is storing it right now
  try {
    if (existsSync(entry)) return false;
    const draft = `${entry}.partial-${randomUUID().slice(0, 8)}`;
    try {
      await copyTree(source, draft);
      renameSync(draft, entry);
    } finally {
      rmSync(draft, { recursive: true, force: true });
    }
    prune(join(entry, '..'), plan);
    return true;
  } finally {
    await release();
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
