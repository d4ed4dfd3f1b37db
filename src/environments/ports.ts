/**
 * Which app's environment holds which port on this worker. An environment claims its port before a
 * run deploys anything (one file per port under `<home>/ports/`, linked into place, so of two
 * claims exactly one wins, also across workers sharing the home); a port another app's existing
 * environment holds is refused with both named.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envPaths, listLocalEnvironments, type EnvironmentKey } from './local/index.js';
import { readState } from './local/state.js';

/** An environment asking for its port. */
export interface PortClaim extends EnvironmentKey {
  port: number;
}

/** Two environments that want the same port. */
export class PortConflictError extends Error {
  override readonly name = 'PortConflictError';
  constructor(
    readonly claim: PortClaim,
    readonly holder: EnvironmentKey,
    holderDir: string,
  ) {
    super(
      `environment ${claim.name} of ${claim.app} wants port ${claim.port}, which environment ${holder.name} of ${holder.app} holds on this worker: give one of them another port in its config, or retire the other (\`tollgate env stop ${holder.name} --app ${holder.app}\`, then delete ${holderDir})`,
    );
  }
}

/** Claims each environment's port, or throws PortConflictError for the first one held by another. */
export async function claimPorts(home: string, claims: PortClaim[]): Promise<void> {
  const dir = join(home, 'ports');
  mkdirSync(dir, { recursive: true });
  // Environments from before port claims existed hold ports too: their state.json says which.
  const existing = await listLocalEnvironments(home);
  for (const claim of claims) {
    for (const other of existing) {
      if (other.app === claim.app && other.name === claim.name) continue;
      const state = await readState(envPaths(home, other).state);
      if (state?.port === claim.port) throw new PortConflictError(claim, other, envPaths(home, other).dir);
    }
    claimOne(home, dir, claim);
  }
}

function claimOne(home: string, dir: string, claim: PortClaim): void {
  const file = join(dir, `${claim.port}.json`);
  for (let attempt = 0; attempt < 2; attempt++) {
    const draft = join(dir, `.${randomUUID()}.tmp`);
    writeFileSync(draft, `${JSON.stringify({ app: claim.app, name: claim.name })}\n`);
    try {
      linkSync(draft, file);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(draft, { force: true });
    }
    const holder = read(file);
    if (holder && holder.app === claim.app && holder.name === claim.name) return;
    // A claim whose environment is gone (its folder removed) is stale: take the port over.
    if (holder && existsSync(envPaths(home, holder).dir)) {
      throw new PortConflictError(claim, holder, envPaths(home, holder).dir);
    }
    rmSync(file, { force: true });
  }
  throw new Error(
    `could not claim port ${claim.port} in ${dir}: another worker keeps changing the claim; retry`,
  );
}

function read(file: string): EnvironmentKey | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EnvironmentKey;
  } catch {
    return undefined;
  }
}
