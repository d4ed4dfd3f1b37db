/** Finds (or installs) the Temporal CLI and stripe-mock through scripts/ensure-tools. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's ensure-tools script (dist/src/cli → repo root). */
export const ENSURE_TOOLS = fileURLToPath(new URL('../../../scripts/ensure-tools', import.meta.url));

/**
 * Path of a tool's binary; installs it the first time (its progress goes to stderr) into the tool
 * cache under TOLLGATE_HOME (./.tollgate by default, as everywhere: not inside an installed package).
 */
export function toolPath(tool: 'temporal' | 'stripe-mock'): string {
  return execFileSync('bash', [ENSURE_TOOLS, '--print', tool], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TOLLGATE_HOME: resolve(process.env.TOLLGATE_HOME ?? '.tollgate') },
  })
    .toString()
    .trim();
}
