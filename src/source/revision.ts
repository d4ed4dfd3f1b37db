/**
 * The client's half of "a release is one commit": where the app's repository is, which commit a
 * revision names (with its tree hash), and what to do with a dirty working tree. Nothing is
 * started until this has answered.
 */
import { relative, resolve } from 'node:path';
import type { SourceRef } from '../types.js';
import { SourceError } from './errors.js';
import { FULL_SHA, git, gitMaybe, isRepositoryUrl } from './git.js';
import { changedFiles, snapshotWorkingTree } from './snapshot.js';

/** Where a config's app lives: the repository workers fetch, the folder in it, and a local clone to ask. */
export interface SourceLocation {
  /** A URL, or the absolute path of a repository on this machine (and the workers'). */
  repository: string;
  /** The app's folder inside the repository, '' for its root (always with forward slashes). */
  subdir: string;
  /** A local repository to resolve revisions in and check for uncommitted changes, when there is one. */
  local?: { dir: string; worktree: boolean };
}

/**
 * Locates the app's repository for a config at `configDir`. Without `repository`, it is the git
 * repository holding the config and `source` is relative to the config; with one, `source` is
 * relative to that repository's root.
 */
export async function locateSource(
  configDir: string,
  repository: string | undefined,
  source: string,
): Promise<SourceLocation> {
  if (repository === undefined) {
    const top = await toplevel(configDir);
    if (!top) {
      throw new SourceError(
        'not-a-repository',
        `${configDir} is not inside a git repository, and Tollgate releases commits: run \`git init && git add -A && git commit -m "first commit"\` there, or set repository to the app's git URL`,
      );
    }
    const subdir = toSubdir(relative(top, resolve(configDir, source)));
    if (subdir === undefined) {
      throw new SourceError(
        'not-a-repository',
        `source ${JSON.stringify(source)} lies outside the repository ${top}: point it at a folder inside it, or set repository`,
      );
    }
    return { repository: top, subdir, local: { dir: top, worktree: true } };
  }
  const subdir = toSubdir(source);
  if (subdir === undefined) {
    throw new SourceError(
      'not-a-repository',
      `source ${JSON.stringify(source)} climbs out of the repository: with repository set, source is the app's folder relative to the repository's root`,
    );
  }
  if (isRepositoryUrl(repository)) {
    // Revisions are resolved in the clone holding the config where it has them (a CI checkout).
    const top = await toplevel(configDir);
    return { repository, subdir, ...(top ? { local: { dir: top, worktree: true } } : {}) };
  }
  const dir = resolve(configDir, repository);
  const top = await toplevel(dir);
  if (top) return { repository: top, subdir, local: { dir: top, worktree: true } };
  if ((await gitMaybe(['rev-parse', '--is-bare-repository'], { cwd: dir })) === 'true') {
    return { repository: dir, subdir, local: { dir, worktree: false } };
  }
  throw new SourceError(
    'not-a-repository',
    `repository ${JSON.stringify(repository)} (${dir}) is not a git repository: give the app's repository as a URL or a path to a clone`,
  );
}

/** What `tollgate run` asked for. */
export interface RevisionRequest {
  /** `--ref`; absent: $GITHUB_SHA, then HEAD of the local repository. */
  ref?: string;
  /** `--allow-dirty`: release the working tree as it is, as a snapshot commit. */
  allowDirty?: boolean;
  /** The environment (GITHUB_SHA). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Resolves the request to one commit: the full SHA, its tree hash, and a snapshot when the working
 * tree is released as it is. Throws SourceError ('unknown-revision', 'dirty', 'bad-request').
 */
export async function resolveRevision(
  location: SourceLocation,
  request: RevisionRequest,
): Promise<SourceRef> {
  const env = request.env ?? process.env;
  const revision = request.ref ?? env.GITHUB_SHA ?? 'HEAD';
  const local = location.local;
  let commit = local ? await commitIn(local.dir, revision) : undefined;
  if (!commit && isRepositoryUrl(location.repository))
    commit = await remoteCommit(location.repository, revision);
  if (!commit) {
    const where = local
      ? `${local.dir}${isRepositoryUrl(location.repository) ? ` or ${location.repository}` : ''}`
      : location.repository;
    throw new SourceError(
      'unknown-revision',
      `--ref ${revision} is not a commit in ${where}: give a branch, a tag or a commit SHA that exists there (fetch it first if it is only on a remote)`,
    );
  }
  const tree = local
    ? ((await gitMaybe(['rev-parse', `${commit}^{tree}`], { cwd: local.dir })) ?? null)
    : null;
  const ref: SourceRef = { repository: location.repository, commit, tree, subdir: location.subdir, revision };

  const head = local?.worktree ? await commitIn(local.dir, 'HEAD') : undefined;
  if (request.allowDirty) return snapshotIfDirty(location, ref, head);
  if (head === commit && local) {
    const files = await changedFiles(local.dir, location.subdir);
    if (files.length > 0) {
      throw new SourceError(
        'dirty',
        `the working tree has uncommitted changes in ${location.subdir || 'the repository'} (${files.length} file${files.length === 1 ? '' : 's'}: ${listed(files)}): commit them, or run again with --allow-dirty to release the working tree as it is (labelled dirty)`,
      );
    }
  }
  return ref;
}

/** `--allow-dirty`: the working tree as a snapshot commit workers can fetch, or HEAD when it is clean. */
async function snapshotIfDirty(
  location: SourceLocation,
  ref: SourceRef,
  head: string | undefined,
): Promise<SourceRef> {
  const local = location.local;
  if (!local?.worktree || head === undefined) {
    throw new SourceError(
      'bad-request',
      '--allow-dirty releases a working tree, and this repository has none here: drop --allow-dirty',
    );
  }
  if (ref.commit !== head) {
    throw new SourceError(
      'bad-request',
      `--allow-dirty releases the working tree, which is at ${head.slice(0, 12)}, but --ref ${ref.revision} is ${ref.commit.slice(0, 12)}: drop one of them`,
    );
  }
  const files = await changedFiles(local.dir, location.subdir);
  if (files.length === 0) return ref;
  if (isRepositoryUrl(location.repository)) {
    throw new SourceError(
      'bad-request',
      `--allow-dirty needs workers that read this clone, but they fetch ${location.repository}, which does not have your uncommitted changes: commit and push them, or set repository to this clone's path for local runs`,
    );
  }
  const snapshot = await snapshotWorkingTree(local.dir, head);
  return {
    ...ref,
    commit: snapshot.commit,
    tree: snapshot.tree,
    dirty: { base: head, files },
    fetchRef: snapshot.ref,
  };
}

/** The commit `revision` names in `dir`, or undefined. */
async function commitIn(dir: string, revision: string): Promise<string | undefined> {
  return gitMaybe(['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`], {
    cwd: dir,
  });
}

/** A full SHA as given, or a branch or tag looked up with `git ls-remote`; undefined when the remote has neither. */
async function remoteCommit(url: string, revision: string): Promise<string | undefined> {
  if (FULL_SHA.test(revision)) return revision;
  const listing = await git(
    [
      'ls-remote',
      '--',
      url,
      revision,
      `refs/heads/${revision}`,
      `refs/tags/${revision}`,
      `refs/tags/${revision}^{}`,
    ],
    {
      timeoutMs: 30_000,
    },
  ).catch((error: unknown) => {
    throw new SourceError(
      'unknown-revision',
      `could not ask ${url} for ${revision}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  });
  const refs = new Map(
    listing
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sha = '', name = ''] = line.split('\t');
        return [name, sha] as const;
      }),
  );
  // An annotated tag's commit is the peeled ^{} line; a branch wins over a tag of the same name, as in git.
  return (
    refs.get(`refs/heads/${revision}`) ??
    refs.get(`refs/tags/${revision}^{}`) ??
    refs.get(`refs/tags/${revision}`) ??
    refs.get(revision)
  );
}

async function toplevel(dir: string): Promise<string | undefined> {
  return gitMaybe(['rev-parse', '--show-toplevel'], { cwd: dir });
}

/** A relative path inside the repository, with forward slashes, '' for the root; undefined when it climbs out. */
function toSubdir(path: string): string | undefined {
  const normalized = path.split(/[\\/]+/).filter((part) => part !== '' && part !== '.');
  if (normalized.includes('..') || path.startsWith('/')) return undefined;
  return normalized.join('/');
}

function listed(files: string[]): string {
  const shown = files.slice(0, 10).join(', ');
  return files.length > 10 ? `${shown}, and ${files.length - 10} more` : shown;
}
