/**
 * Stand-ins for the Dagger CLI's `dagger session` (the real engine cannot run in CI): shell scripts
 * that print connect parameters for a fake session, or hang, or fail, and record their pid so a
 * test can prove the session's process group was killed.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fake CLI and the file where it writes its pid. */
export interface FakeCli {
  bin: string;
  pidFile: string;
  /** The pid the script wrote (undefined before it started). */
  pid(): number | undefined;
}

/**
 * `connect`: prints the session's port and token, then runs until its stdin closes (as `dagger
 * session` does). `hang`: never prints and ignores SIGTERM (a CLI stuck at "connecting to engine"). `fail`:
 * says why on stderr and exits 1.
 */
export function fakeCli(behaviour: { connect: { port: number; token: string } } | 'hang' | 'fail'): FakeCli {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-fake-dagger-'));
  const bin = join(dir, 'dagger');
  const pidFile = join(dir, 'pid');
  const lines = ['#!/bin/sh', `echo $$ > ${pidFile}`, '[ "$1" = session ] || exit 2'];
  if (behaviour === 'hang') {
    lines.push("trap '' TERM", 'echo "connecting to engine" >&2', 'while :; do sleep 1; done');
  } else if (behaviour === 'fail') {
    lines.push('echo "failed to connect to engine: no such container tollgate-nope" >&2', 'exit 1');
  } else {
    const params = JSON.stringify({ port: behaviour.connect.port, session_token: behaviour.connect.token });
    // As `dagger session` does: it runs until its stdin closes.
    lines.push(`echo '${params}'`, 'cat > /dev/null');
  }
  writeFileSync(bin, `${lines.join('\n')}\n`);
  chmodSync(bin, 0o755);
  return {
    bin,
    pidFile,
    pid: () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined),
  };
}

/** True while a process with this pid exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
