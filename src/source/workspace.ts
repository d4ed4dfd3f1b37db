/**
 * A run's workspace: exactly one commit, checked out from the worker's mirror into a folder of its
 * own under `<home>/workspaces/<app>/`, verified against the commit's tree, and removed when the
 * run closes. Stages work there and nowhere else: never in anyone's working copy.
 */
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SourceRef } from '../types.js';
import { SourceError } from './errors.js';
import { git } from './git.js';

/** A checked-out commit. */
export interface Workspace {
  /** The repository's root as checked out. */
  root: string;
  /** The app's folder in it: where stages run. */
  appDir: string;
  commit: string;
  /** The tree hash the checkout was verified against. */
  tree: string;
}

/** What the workspace's marker file (beside the folder) remembers. */
interface Marker {
  commit: string;
  tree: string;
  createdAt: string;
}

/** `<home>/workspaces/<app>/<run>`: one folder per run (the run key is made path-safe). */
export function workspacePath(home: string, app: string, runKey: string): string {
  return join(home, 'workspaces', app, runKey.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/**
 * The run's workspace: reused when it already holds `source.commit` (a retried stage, another stage
 * of the run), otherwise checked out from `mirror` beside its final place, verified, then renamed
 * into place, so a half-made workspace is never used.
 */
export async function materializeWorkspace(
  path: string,
  mirror: string,
  source: Pick<SourceRef, 'commit' | 'subdir'>,
): Promise<Workspace & { created: boolean }> {
  const existing = readMarker(path);
  if (existing && existing.commit === source.commit && existsSync(path)) {
    return { ...located(path, source.subdir, existing), created: false };
  }
  if (existing) rmSync(path, { recursive: true, force: true }); // another commit under this run's name: start over
  mkdirSync(join(path, '..'), { recursive: true });
  const draft = `${path}.partial-${randomUUID().slice(0, 8)}`;
  mkdirSync(draft);
  try {
    const tree = await git(['rev-parse', `${source.commit}^{tree}`], { env: { GIT_DIR: mirror } });
    await checkout(mirror, draft, source.commit);
    await verify(mirror, draft, source.commit, tree);
    if (source.subdir && !statSync(join(draft, source.subdir), { throwIfNoEntry: false })?.isDirectory()) {
      throw new SourceError(
        'checkout-mismatch',
        `commit ${source.commit} has no folder ${source.subdir}: check the config's source (the app's folder in the repository)`,
      );
    }
    const marker: Marker = { commit: source.commit, tree, createdAt: new Date().toISOString() };
    // The marker first: a folder at `path` always has one, so a reader never takes a foreign folder for this commit.
    writeFileSync(markerPath(path), `${JSON.stringify(marker)}\n`);
    try {
      renameSync(draft, path);
    } catch (error) {
      // Another attempt of this run got there first with the same commit: use its workspace.
      if (!existsSync(path)) throw error;
      rmSync(draft, { recursive: true, force: true });
      return { ...located(path, source.subdir, marker), created: false };
    }
    return { ...located(path, source.subdir, marker), created: true };
  } catch (error) {
    rmSync(draft, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Removes a run's workspace with its marker and every other file kept beside it under its name
 * (`<path>.<what>.json`, e.g. the restored dependencies' state). A no-op when it is gone.
 */
export function removeWorkspace(path: string): void {
  rmSync(markerPath(path), { force: true });
  const dir = dirname(path);
  const sidecar = `${basename(path)}.`;
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(sidecar)) rmSync(join(dir, name), { recursive: true, force: true });
    }
  }
  rmSync(path, { recursive: true, force: true });
}

/**
 * Removes workspaces (and half-made ones) untouched for `maxAgeMs`: runs whose close never reached
 * this machine, e.g. a build worker with a home of its own. Returns the paths removed.
 */
export function pruneWorkspaces(home: string, maxAgeMs: number, now = Date.now()): string[] {
  const root = join(home, 'workspaces');
  const removed: string[] = [];
  if (!existsSync(root)) return removed;
  for (const app of readdirSync(root)) {
    const dir = join(root, app);
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.json')) continue;
      const path = join(dir, name);
      const touched = statSync(existsSync(markerPath(path)) ? markerPath(path) : path).mtimeMs;
      if (now - touched > maxAgeMs) {
        removeWorkspace(path);
        removed.push(path);
      }
    }
  }
  return removed;
}

/** Checks `commit` out into `dir` with a throwaway index, so concurrent checkouts from one mirror never meet. */
async function checkout(mirror: string, dir: string, commit: string): Promise<void> {
  const env = { GIT_DIR: mirror, GIT_WORK_TREE: dir, GIT_INDEX_FILE: `${dir}.index` };
  try {
    await git(['read-tree', commit], { cwd: dir, env });
    await git(['checkout-index', '--all', '--force'], { cwd: dir, env });
  } finally {
    rmSync(`${dir}.index`, { force: true });
  }
}

/** Hashes every file that was written and compares the result with the commit's tree. */
async function verify(mirror: string, dir: string, commit: string, tree: string): Promise<void> {
  const env = { GIT_DIR: mirror, GIT_WORK_TREE: dir, GIT_INDEX_FILE: `${dir}.verify-index` };
  try {
    // --force: files the repository's .gitignore matches but the commit tracks are part of it too.
    await git(['add', '--all', '--force', '--', '.'], { cwd: dir, env });
    const written = await git(['write-tree'], { cwd: dir, env });
    if (written !== tree) {
      throw new SourceError(
        'checkout-mismatch',
        `the checkout of ${commit} hashes to tree ${written}, not the commit's ${tree}: the worker's disk or mirror is damaged; remove ${mirror} and retry`,
      );
    }
  } finally {
    rmSync(`${dir}.verify-index`, { force: true });
  }
}

function located(path: string, subdir: string, marker: Marker): Workspace {
  return { root: path, appDir: subdir ? join(path, subdir) : path, commit: marker.commit, tree: marker.tree };
}

function markerPath(path: string): string {
  return `${path}.json`;
}

function readMarker(path: string): Marker | undefined {
  try {
    return JSON.parse(readFileSync(markerPath(path), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}
