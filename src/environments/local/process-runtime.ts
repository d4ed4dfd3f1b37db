/** The `local` driver's runtime: each release a process on the host, in its own unpacked directory. */
import { rm } from 'node:fs/promises';
import type { ReleaseSpec } from '../environment.js';
import { LocalEnvironmentError } from './errors.js';
import { readLaunch, spawnRelease, STOP_GRACE_MS, writeLaunch } from './launch.js';
import { logTail } from './log-tail.js';
import { freePort, portIsFree, probe } from './net.js';
import { releasePaths, type EnvPaths } from './paths.js';
import { isAlive, processCwd, stopProcess } from './processes.js';
import type { ReleaseRuntime } from './runtime.js';
import type { ReleaseRecord } from './state.js';
import { unpackRelease } from './unpack.js';

/** Releases as supervised host processes; the supervisor's watchdog restarts them. */
export class ProcessRuntime implements ReleaseRuntime {
  readonly kind = 'process' as const;
  readonly restarts = 'supervisor' as const;

  constructor(
    private readonly paths: EnvPaths,
    private readonly log: (line: string) => void,
    private readonly stopping: () => boolean,
  ) {}

  async prepare(spec: ReleaseSpec): Promise<void> {
    if (spec.artifact.kind !== 'tarball')
      throw new LocalEnvironmentError(`the local environment runs tarballs, not ${spec.artifact.kind}`);
    const files = releasePaths(this.paths, spec.releaseId);
    await unpackRelease(spec.artifact, files.dir);
    await writeLaunch(files.launch, { start: spec.start, env: { ...spec.env, ...spec.secrets } });
  }

  /** Starts the release from its directory (same port when still free). */
  async start(record: ReleaseRecord): Promise<void> {
    const launch = await readLaunch(releasePaths(this.paths, record.releaseId).launch);
    const port = record.port && (await portIsFree(record.port)) ? record.port : await freePort();
    record.pid = spawnRelease(record.dir, launch, port, record.logPath, (exited, code, signal) => {
      if (!this.stopping())
        this.log(`release ${record.releaseId} pid ${exited} exited (code ${code}, signal ${signal})`);
    });
    record.port = port;
    record.startedAt = new Date().toISOString();
  }

  running(record: ReleaseRecord): Promise<boolean> {
    return Promise.resolve(record.pid !== null && isAlive(record.pid));
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  async stop(record: ReleaseRecord): Promise<void> {
    if (record.pid !== null) await stopProcess(record.pid, STOP_GRACE_MS);
  }

  async remove(record: ReleaseRecord): Promise<void> {
    await this.stop(record);
    const files = releasePaths(this.paths, record.releaseId);
    await rm(files.dir, { recursive: true, force: true });
    await rm(files.launch, { force: true });
  }

  logTail(record: ReleaseRecord, bytes?: number): Promise<string> {
    return logTail(record.logPath, bytes);
  }

  /** A live process in the release's directory that answers its health path. */
  async adoptable(record: ReleaseRecord): Promise<boolean> {
    if (record.pid === null || !isAlive(record.pid)) return false;
    const cwd = processCwd(record.pid);
    if (cwd !== null && cwd !== record.dir) return false;
    return (await probe(`http://127.0.0.1:${record.port}${record.healthPath}`, 2000)).status === 200;
  }

  /** Processes live only in the state file: nothing else to find. */
  reconcile(): Promise<{ found: ReleaseRecord[]; gone: string[] }> {
    return Promise.resolve({ found: [], gone: [] });
  }

  restartsSince(): Promise<Record<string, number>> {
    return Promise.resolve({});
  }
}
