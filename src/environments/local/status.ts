/** What `tollgate env status|stop <env>` needs: read or stop an environment without starting it. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callControl } from './control-client.js';
import { pingSupervisor, supervisorPid } from './launcher.js';
import { STOP_GRACE_MS } from './launch.js';
import { envPaths, legacyStateApp, type EnvPaths, type EnvironmentKey } from './paths.js';
import { isAlive, processCwd, stopProcess } from './processes.js';
import { connectEngine } from '../docker/engine.js';
import { readState, writeState, type HistoryEntry, type ReleaseRecord } from './state.js';

/** `docker stop` of a release's container; one already stopped or gone is fine. */
async function stopContainer(engine: string, container: string): Promise<void> {
  await connectEngine(engine)
    .getContainer(container)
    .stop({ t: Math.round(STOP_GRACE_MS / 1000) })
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 304 && err.statusCode !== 404) throw err;
    });
}

/** One environment as `tollgate env status` shows it. */
export interface EnvironmentStatus {
  app: string;
  name: string;
  dir: string;
  port: number | null;
  url: string | null;
  /** Pid of the supervisor when it answers, else null. */
  supervisorPid: number | null;
  current: string | null;
  previous: string | null;
  /** A release in its canary window, with its share of customers; null when there is none. */
  canary: { releaseId: string; weight: number; since: string } | null;
  releases: (ReleaseRecord & { alive: boolean })[];
  history: HistoryEntry[];
}

/** The local environments under `home` (those with a state.json), by app, 0.1 environments included. */
export async function listLocalEnvironments(home: string): Promise<EnvironmentKey[]> {
  const root = join(home, 'envs');
  const found: EnvironmentKey[] = [];
  const exists = (path: string): Promise<boolean> =>
    stat(path).then(
      () => true,
      () => false,
    );
  for (const entry of (await readdir(root).catch(() => [] as string[])).sort()) {
    const legacyApp = legacyStateApp(join(root, entry, 'state.json'));
    if (legacyApp) {
      found.push({ app: legacyApp, name: entry });
      continue;
    }
    for (const name of (await readdir(join(root, entry)).catch(() => [] as string[])).sort()) {
      if (await exists(join(root, entry, name, 'state.json'))) found.push({ app: entry, name });
    }
  }
  return found;
}

/** The state of environment `key` and which of its processes are alive; starts nothing. */
export async function environmentStatus(home: string, key: EnvironmentKey): Promise<EnvironmentStatus> {
  const paths = envPaths(home, key);
  const pid = await pingSupervisor(paths);
  const live = pid !== null ? await callControl(paths.socket, 'status', {}, 30_000) : null;
  const state = live?.state ?? (await readState(paths.state));
  const records = Object.values(state?.releases ?? {});
  return {
    app: key.app ?? records[0]?.app ?? '',
    name: key.name,
    dir: paths.dir,
    port: state?.port ?? null,
    url: state ? `http://127.0.0.1:${state.port}` : null,
    supervisorPid: pid,
    current: state?.current ?? null,
    previous: state?.previous ?? null,
    canary: state?.canary
      ? { releaseId: state.canary.releaseId, weight: state.canary.weight, since: state.canary.since }
      : null,
    releases: records.map((r) => ({
      ...r,
      alive: live?.alive[r.releaseId] ?? (r.pid !== null && isAlive(r.pid)),
    })),
    history: state?.history.slice(-20) ?? [],
  };
}

/** Stops the releases and the supervisor of an environment; also stops releases orphaned by a killed supervisor. */
export async function stopEnvironment(paths: EnvPaths): Promise<void> {
  if ((await pingSupervisor(paths)) !== null) {
    const pid = await supervisorPid(paths);
    await callControl(paths.socket, 'stop', {}, STOP_GRACE_MS * 2 + 10_000);
    const deadline = Date.now() + 5000;
    while (pid !== null && isAlive(pid) && Date.now() < deadline) await sleep(25);
    return;
  }
  const silent = await supervisorPid(paths);
  if (silent !== null) await stopProcess(silent, 1000); // alive but not answering: wedged
  const state = await readState(paths.state);
  if (!state) return;
  let changed = false;
  const runtime = state.runtime;
  for (const record of Object.values(state.releases)) {
    if (record.pid === null) continue;
    if (runtime?.kind === 'docker' && record.container) {
      // A container is the engine's: stopped there (a killed pid would be restarted by its policy).
      await stopContainer(runtime.engine, record.container);
      record.pid = null;
      changed = true;
      continue;
    }
    const cwd = isAlive(record.pid) ? processCwd(record.pid) : null;
    if (cwd === null || cwd === record.dir) await stopProcess(record.pid, STOP_GRACE_MS);
    record.pid = null;
    changed = true;
  }
  if (changed) await writeState(paths.state, state);
}
