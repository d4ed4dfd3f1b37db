/** `tollgate env status [name]` and `tollgate env stop <name>`: what the local environments run. */
import { environmentStatus, listLocalEnvironments, stopEnvironment } from '../environments/local/index.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { loadSettings } from '../settings.js';

/** Options of `tollgate env status`. */
export interface EnvOptions {
  json?: boolean;
}

/** Shows each environment's proxy, current and previous release, and its release processes. */
export async function envStatus(name: string | undefined, options: EnvOptions): Promise<number> {
  const { home } = loadSettings();
  const names = name ? [name] : await listLocalEnvironments(home);
  if (name && !(await listLocalEnvironments(home)).includes(name)) {
    throw new ExitError(
      ExitCode.BadInput,
      `no environment "${name}" under ${home}: known: ${(await listLocalEnvironments(home)).join(', ') || 'none yet'}`,
    );
  }
  const statuses = await Promise.all(names.map((n) => environmentStatus(home, n)));
  if (options.json) {
    console.log(JSON.stringify(statuses, null, 2));
    return ExitCode.Ok;
  }
  if (statuses.length === 0) console.log(`No environments under ${home} yet.`);
  for (const s of statuses) {
    console.log(
      `${s.name}: ${s.url ?? '(no proxy)'} — supervisor ${s.supervisorPid ? `pid ${s.supervisorPid}` : 'not running'}`,
    );
    console.log(`  current:  ${s.current ?? '-'}\n  previous: ${s.previous ?? '-'}`);
    for (const r of s.releases) console.log(`  release ${r.releaseId} ${r.alive ? 'running' : 'stopped'}`);
  }
  return ExitCode.Ok;
}

/** Stops an environment's proxy and releases (its state is kept; the next deploy starts it again). */
export async function envStop(name: string): Promise<number> {
  const { home } = loadSettings();
  if (!(await listLocalEnvironments(home)).includes(name)) {
    throw new ExitError(ExitCode.BadInput, `no environment "${name}" under ${home}`);
  }
  await stopEnvironment(home, name);
  console.log(`Stopped ${name}.`);
  return ExitCode.Ok;
}
