/** Runs git as a child process (never a shell): the one way Tollgate's client and worker talk to git. */
import { execFile } from 'node:child_process';

/** A git command that exited non-zero; `stderr` says why, in git's words. */
export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(
      `git ${args.join(' ')} failed${exitCode === null ? '' : ` (exit ${exitCode})`}: ${stderr.trim() || 'no output'}`,
    );
  }
}

/** Options of one git call. */
export interface GitOptions {
  /** Working directory (`git -C` semantics without the flag). */
  cwd?: string;
  /** Extra environment, e.g. GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE. */
  env?: Record<string, string>;
  /** Gives up after this long (default 120 s: a fetch of a big repository). */
  timeoutMs?: number;
}

// Prompts would hang a worker or a CI job forever: fail instead and let the message say why.
const NON_INTERACTIVE = { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', SSH_ASKPASS: 'true' };

/** Runs `git <args>` and resolves with its stdout, trimmed at the end; rejects with GitError. */
export function git(args: readonly string[], options: GitOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...args],
      {
        cwd: options.cwd,
        env: { ...process.env, ...NON_INTERACTIVE, ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null;
          const why = error.killed ? `timed out after ${options.timeoutMs ?? 120_000} ms` : stderr;
          reject(new GitError(args, code, why || error.message));
          return;
        }
        resolve(stdout.replace(/\s+$/, ''));
      },
    );
  });
}

/** Like `git`, but resolves undefined instead of failing (for questions: "is this a commit?"). */
export async function gitMaybe(
  args: readonly string[],
  options: GitOptions = {},
): Promise<string | undefined> {
  try {
    return await git(args, options);
  } catch (error) {
    if (error instanceof GitError) return undefined;
    throw error;
  }
}

/** A full commit id: 40 hex digits (SHA-1) or 64 (SHA-256 repositories). */
export const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** True for a repository given as a URL (https, ssh, git, file, or scp-like `user@host:path`) rather than a path. */
export function isRepositoryUrl(repository: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repository) || /^[^/\s]+@[^/\s]+:/.test(repository);
}
