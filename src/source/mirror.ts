/**
 * The worker's copy of each repository: one bare mirror per repository under
 * `<home>/git/`, fetched into on demand. A commit that is already there costs no network at all.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { SourceRef } from '../types.js';
import { SourceError } from './errors.js';
import { git, GitError, gitMaybe } from './git.js';

/** The mirror of `repository` under `home` (its name shows which repository it is). */
export function mirrorPath(home: string, repository: string): string {
  const slug =
    repository
      .replace(/\.git$/, '')
      .split(/[/:\\]/)
      .filter(Boolean)
      .at(-1)
      ?.replace(/[^A-Za-z0-9._-]/g, '-') ?? 'repo';
  const hash = createHash('sha256').update(repository).digest('hex').slice(0, 12);
  return join(home, 'git', `${slug}-${hash}.git`);
}

/** How the commit got into the mirror. */
export interface MirrorResult {
  mirror: string;
  /** False when the mirror had the commit already (no network). */
  fetched: boolean;
}

/**
 * Makes sure the mirror of `source.repository` holds `source.commit`: fetches branches and tags,
 * the snapshot ref, and at last the commit by id. Throws SourceError 'unreachable' when the
 * repository cannot be read, 'commit-not-found' when it can but lacks the commit.
 */
export async function ensureCommit(
  home: string,
  source: Pick<SourceRef, 'repository' | 'commit' | 'fetchRef'>,
): Promise<MirrorResult> {
  const mirror = mirrorPath(home, source.repository);
  if (existsSync(mirror) && (await hasCommit(mirror, source.commit))) return { mirror, fetched: false };
  await createMirror(mirror);
  // One fetch per mirror at a time: git's ref locks make concurrent fetches into one repository fail.
  const release = await lockfile.lock(mirror, {
    realpath: false,
    stale: 60_000,
    retries: { retries: 600, minTimeout: 100, maxTimeout: 1000 },
  });
  try {
    if (await hasCommit(mirror, source.commit)) return { mirror, fetched: false };
    const refspecs = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];
    if (source.fetchRef) refspecs.push(`+${source.fetchRef}:${source.fetchRef}`);
    await fetch(mirror, source.repository, refspecs);
    // Not on a branch or tag (a commit that a branch no longer points at): ask for it by id,
    // which servers that allow it (GitHub, GitLab, local repositories) answer.
    if (!(await hasCommit(mirror, source.commit))) {
      await fetch(mirror, source.repository, [
        `+${source.commit}:refs/tollgate/commits/${source.commit}`,
      ]).catch(() => undefined);
    }
    if (!(await hasCommit(mirror, source.commit))) {
      throw new SourceError(
        'commit-not-found',
        `commit ${source.commit} is not in ${source.repository} (fetched its branches and tags${source.fetchRef ? `, ${source.fetchRef}` : ''} and asked for the commit by id into ${mirror}): push it first, or check that the config's repository is the one the commit was made in`,
      );
    }
    return { mirror, fetched: true };
  } finally {
    await release();
  }
}

/** True when the mirror has `commit` as a commit object. */
export async function hasCommit(mirror: string, commit: string): Promise<boolean> {
  return (
    (await gitMaybe(['cat-file', '-e', `${commit}^{commit}`], { env: { GIT_DIR: mirror } })) !== undefined
  );
}

async function createMirror(mirror: string): Promise<void> {
  if (existsSync(mirror)) return;
  mkdirSync(join(mirror, '..'), { recursive: true });
  // Initialised beside, then renamed: a worker that dies half-way leaves no half-made mirror behind.
  const draft = `${mirror}.init-${randomUUID().slice(0, 8)}`;
  await git(['init', '--quiet', '--bare', draft]);
  try {
    renameSync(draft, mirror);
  } catch (error) {
    rmSync(draft, { recursive: true, force: true });
    if (!existsSync(mirror)) throw error; // another worker's mirror won the race: use it
  }
}

async function fetch(mirror: string, repository: string, refspecs: string[]): Promise<void> {
  try {
    await git(['fetch', '--quiet', '--no-tags', '--prune', '--', repository, ...refspecs], {
      env: { GIT_DIR: mirror },
      timeoutMs: 10 * 60_000,
    });
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    throw new SourceError(
      'unreachable',
      `could not fetch ${repository} into ${mirror}: ${error.stderr.trim() || error.message}: check the config's repository and that this worker can read it (path, network, credentials)`,
      { cause: error },
    );
  }
}

/** The commit a repository's HEAD (its default branch) points at, asked of the repository itself. */
export async function headOf(repository: string): Promise<string> {
  try {
    const listing = await git(['ls-remote', '--', repository, 'HEAD'], { timeoutMs: 60_000 });
    const sha = listing.split('\t')[0]?.trim();
    if (sha) return sha;
  } catch (error) {
    throw new SourceError(
      'unreachable',
      `could not ask ${repository} for its HEAD: ${error instanceof GitError ? error.stderr.trim() : String(error)}: check the config's repository and that this worker can read it`,
      { cause: error },
    );
  }
  throw new SourceError(
    'commit-not-found',
    `${repository} has no HEAD (no commits yet): push a first commit`,
  );
}
