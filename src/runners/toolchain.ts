/**
 * What the host runner runs a stage with, for the stage result cache's key: every program the
 * stage's steps start (and `node`, which npm scripts run under), found on PATH as the stage would
 * find it, identified by its real path, size and modification time. Upgrading Node or npm changes
 * the files, so a result from the old toolchain is never served to the new one. Cheap: a few stats.
 */
import { realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { CommandPlan } from '../types.js';

/** Program name (as the steps spell it) → `realpath size mtime`, or `missing`; plus the platform. */
export function hostToolchain(
  plan: CommandPlan,
  path: string = process.env.PATH ?? '',
): Record<string, string> {
  const programs = new Set<string>(['node']);
  for (const step of plan.steps) if (step.run[0]) programs.add(step.run[0]);
  for (const argv of [plan.artifact?.install, plan.artifact?.sbom]) if (argv?.[0]) programs.add(argv[0]);
  const identity: Record<string, string> = { platform: `${process.platform}-${process.arch}` };
  for (const program of [...programs].sort()) identity[`bin:${program}`] = describe(program, path);
  return identity;
}

function describe(program: string, path: string): string {
  // `./scripts/check.sh`: part of the checkout, which the key's tree hash already covers.
  if (!isAbsolute(program) && program.includes('/')) return 'in the source tree';
  const candidates = isAbsolute(program)
    ? [program]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      const real = realpathSync(candidate);
      const stat = statSync(real);
      if (stat.isFile()) return `${real} ${stat.size} ${Math.trunc(stat.mtimeMs)}`;
    } catch {
      // not in this folder of PATH
    }
  }
  return 'missing';
}
