/**
 * Dirty working trees: which files differ from HEAD, and (for `--allow-dirty`) the exact working
 * tree as a commit object the workers can fetch, made without touching the tree, the index or
 * any branch.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from './git.js';

/** Where snapshots are kept in the user's repository, so workers can fetch them by name and gc keeps them. */
export const SNAPSHOT_REFS = 'refs/tollgate/snapshots';

/** Files under `subdir` ('' = everywhere) that are modified, added, deleted or untracked (not ignored). */
export async function changedFiles(dir: string, subdir: string): Promise<string[]> {
  const out = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', subdir || '.'], {
    cwd: dir,
  });
  const files: string[] = [];
  const entries = out.split('\0').filter(Boolean);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    files.push(entry.slice(3));
    // A rename or copy is followed by its old path.
    if (entry[0] === 'R' || entry[0] === 'C') i++;
  }
  return files;
}

/**
 * The working tree of `dir` (tracked and untracked files, .gitignore respected) as a commit on top
 * of `head`, recorded under refs/tollgate/snapshots/<sha>. Uses a throwaway index: the user's
 * index, tree and branches are not touched.
 */
export async function snapshotWorkingTree(
  dir: string,
  head: string,
): Promise<{ commit: string; tree: string; ref: string }> {
  const index = join(tmpdir(), `tollgate-snapshot-${randomUUID()}.index`);
  const env = {
    GIT_INDEX_FILE: index,
    GIT_AUTHOR_NAME: 'tollgate',
    GIT_AUTHOR_EMAIL: 'tollgate@localhost',
    GIT_COMMITTER_NAME: 'tollgate',
    GIT_COMMITTER_EMAIL: 'tollgate@localhost',
  };
  try {
    await git(['read-tree', head], { cwd: dir, env });
    await git(['add', '--all', '--', ':/'], { cwd: dir, env });
    const tree = await git(['write-tree'], { cwd: dir, env });
    const commit = await git(
      [
        'commit-tree',
        tree,
        '-p',
        head,
        '-m',
        `tollgate: snapshot of the working tree on ${head.slice(0, 12)}`,
      ],
      { cwd: dir, env },
    );
    const ref = `${SNAPSHOT_REFS}/${commit}`;
    await git(['update-ref', ref, commit], { cwd: dir });
    return { commit, tree, ref };
  } finally {
    rmSync(index, { force: true });
  }
}
