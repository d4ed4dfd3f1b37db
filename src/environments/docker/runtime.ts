/**
 * The `docker` driver's runtime: each release a container from its image (pinned by id or digest),
 * published on a loopback port, labelled with what it is, so the supervisor rebuilds its view from the
 * engine after any restart. Tollgate's own proxy (in the supervisor, as for `local`) switches
 * traffic between containers: the same sticky split, per-release counters and 0-failure switch.
 */
import { createHash } from 'node:crypto';
import { chown, mkdir, rm } from 'node:fs/promises';
import type Docker from 'dockerode';
import type { ReleaseSpec } from '../environment.js';
import { LocalEnvironmentError } from '../local/errors.js';
import { readLaunch, STOP_GRACE_MS, writeLaunch } from '../local/launch.js';
import { freePort } from '../local/net.js';
import { releasePaths, type EnvPaths } from '../local/paths.js';
import type { DockerRuntimeOptions, ReleaseRuntime } from '../local/runtime.js';
import type { ReleaseRecord } from '../local/state.js';
import { connectEngine, demuxLogs, engineMessage, engineStatus, withEngine } from './engine.js';
import { APP_DIR, releaseImage } from './image.js';
import { removeSecrets, SECRETS_MOUNT, secretsPath, writeSecrets } from './secrets.js';

/** Label keys every release container carries. */
export const LABEL = {
  app: 'dev.tollgate.app',
  environment: 'dev.tollgate.environment',
  /** A hash of the environment's folder: two Tollgate homes on one engine never meet. */
  key: 'dev.tollgate.environment-key',
  release: 'dev.tollgate.release',
  ref: 'dev.tollgate.ref',
  digest: 'dev.tollgate.digest',
  role: 'dev.tollgate.role',
  healthPath: 'dev.tollgate.health-path',
  readyPath: 'dev.tollgate.ready-path',
} as const;

/** The label value that ties containers to one environment's folder (a Tollgate home, app and name). */
export function environmentKeyOf(dir: string): string {
  return createHash('sha256').update(dir).digest('hex').slice(0, 12);
}

/** Reads the secrets file into the environment, then runs the release's own command. */
const ENTRYPOINT = ['/bin/sh', '-c', 'set -a; . "$0"; set +a; exec "$@"', SECRETS_MOUNT];
/** Times a port already taken on the host is answered with another port. */
const PORT_TRIES = 3;

/** Identity of the environment whose containers this runtime owns. */
export interface DockerEnvironmentKey {
  app: string;
  name: string;
  paths: EnvPaths;
}

/** Releases as containers; the engine's restart policy restarts them, the supervisor reports it. */
export class DockerRuntime implements ReleaseRuntime {
  readonly kind = 'docker' as const;
  readonly restarts = 'engine' as const;
  private readonly docker: Docker;
  private readonly key: string;

  constructor(
    private readonly options: DockerRuntimeOptions,
    private readonly env: DockerEnvironmentKey,
    private readonly log: (line: string) => void,
  ) {
    this.docker = connectEngine(options.engine);
    this.key = environmentKeyOf(env.paths.dir);
  }

  /** The container's name: unique per Tollgate home, environment and release. */
  containerName(releaseId: string): string {
    return `tollgate-${this.env.app}-${this.env.name}-${this.key}-${releaseId}`;
  }

  /** The image (pulled or built), the secrets file, the launch file (no secrets) and the container. */
  async prepare(spec: ReleaseSpec, record: ReleaseRecord): Promise<void> {
    // The image says what it holds; which environment runs it is the container's label alone (a
    // container someone starts from the image by hand must not look like the environment's).
    const labels = { [LABEL.app]: this.env.app, [LABEL.ref]: record.ref, [LABEL.digest]: record.digest };
    const image = await this.engine(`getting the image of ${spec.releaseId}`, () =>
      releaseImage(
        this.docker,
        { ...spec, baseImage: this.options.baseImage, user: this.options.user },
        record.dir,
        labels,
      ),
    );
    record.image = image.image;
    this.log(`release ${spec.releaseId}: ${image.source}`);
    // The launch file (0600, beside the release, as the local driver keeps it) lets a restarted host
    // write the tmpfs file again; the container only ever sees the tmpfs file.
    await writeLaunch(releasePaths(this.env.paths, spec.releaseId).launch, {
      start: spec.start,
      env: spec.env,
      secrets: spec.secrets,
    });
    await this.create(record);
  }

  /** Starts the container; a host port taken meanwhile gets the container made anew on another one. */
  async start(record: ReleaseRecord): Promise<void> {
    // The tmpfs file is gone after a reboot: written again from the launch file before every start.
    const launch = await readLaunch(releasePaths(this.env.paths, record.releaseId).launch);
    await writeSecrets(await this.secretsFile(record), launch.secrets ?? {});
    for (let attempt = 1; ; attempt++) {
      if (!record.container || !(await this.inspect(record))) await this.create(record);
      try {
        await this.engine(`starting ${record.releaseId}`, () =>
          this.docker.getContainer(record.container as string).start(),
        );
        break;
      } catch (err) {
        if (engineStatus(err) === 304) break; // running already
        if (err instanceof LocalEnvironmentError) throw err; // the engine unreachable: said as such
        const message = engineMessage(err);
        if (!/address already in use|port is already allocated/i.test(message) || attempt >= PORT_TRIES)
          throw new LocalEnvironmentError(
            `container of ${record.releaseId} did not start: ${message}`,
            record.releaseId,
            await this.logTail(record),
          );
        this.log(
          `release ${record.releaseId}: port ${record.port} is taken on the host; making it anew on another`,
        );
        await this.removeContainer(record);
        record.port = 0;
      }
    }
    const info = await this.inspect(record);
    record.pid = info?.State.Pid || null;
    record.restartCount = info?.RestartCount ?? 0;
    record.startedAt = new Date().toISOString();
    this.locate(record, info);
  }

  async running(record: ReleaseRecord): Promise<boolean> {
    const info = await this.inspect(record);
    return Boolean(info?.State.Running && !info.State.Restarting);
  }

  /** Once ready, the engine restarts it by the configured policy (during a deploy, an exit is a failure). */
  async ready(record: ReleaseRecord): Promise<void> {
    const policy = this.options.restart;
    await this.engine(`setting ${record.releaseId}'s restart policy`, () =>
      this.docker.getContainer(record.container as string).update({
        RestartPolicy: { Name: policy, ...(policy === 'on-failure' ? { MaximumRetryCount: 10 } : {}) },
      }),
    );
  }

  async stop(record: ReleaseRecord): Promise<void> {
    if (!record.container) return;
    await this.engine(`stopping ${record.releaseId}`, () =>
      this.docker
        .getContainer(record.container as string)
        .stop({ t: Math.round(STOP_GRACE_MS / 1000) })
        .catch((err: unknown) => {
          if (engineStatus(err) !== 304 && engineStatus(err) !== 404) throw err;
        }),
    );
  }

  /** Container, its secrets, its launch file, and the image built for it (a pulled one stays: others may use it). */
  async remove(record: ReleaseRecord): Promise<void> {
    await this.stop(record); // SIGTERM first: requests still in flight finish (remove alone would SIGKILL)
    await this.removeContainer(record);
    // A container made anew by a start whose state was not kept (readiness failed) goes too.
    await this.removeContainer(record, this.containerName(record.releaseId));
    await removeSecrets(await this.secretsFile(record));
    const files = releasePaths(this.env.paths, record.releaseId);
    await rm(files.launch, { force: true });
    await rm(record.dir, { recursive: true, force: true });
    if (record.image?.startsWith('sha256:'))
      await this.engine(`removing ${record.releaseId}'s image`, () =>
        this.docker
          .getImage(`tollgate/${this.env.app}:${record.releaseId}`)
          .remove()
          .catch(() => undefined),
      );
  }

  async logTail(record: ReleaseRecord, bytes = 2048): Promise<string> {
    if (!record.container) return '';
    try {
      const raw = await this.docker
        .getContainer(record.container)
        .logs({ stdout: true, stderr: true, follow: false, tail: 200 });
      const text = demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
      return text.slice(-bytes);
    } catch {
      return '';
    }
  }

  /** The container runs and carries this environment's labels for this release. */
  async adoptable(record: ReleaseRecord): Promise<boolean> {
    const info = await this.inspect(record);
    if (!info?.State.Running) return false;
    const labels = info.Config.Labels ?? {};
    if (labels[LABEL.key] !== this.key || labels[LABEL.release] !== record.releaseId) return false;
    record.pid = info.State.Pid;
    this.locate(record, info);
    return true;
  }

  /** The engine's containers of this environment against the records: ports, pids, and what the state lacks. */
  async reconcile(records: ReleaseRecord[]): Promise<{ found: ReleaseRecord[]; gone: string[] }> {
    const listed = await this.engine('listing the environment’s containers', () =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL.key}=${this.key}`] } }),
    );
    // Only the containers this runtime made (their name), whatever else carries the labels.
    const ours = listed.filter((c) =>
      c.Names.includes(`/${this.containerName(c.Labels[LABEL.release] ?? '')}`),
    );
    const byRelease = new Map(ours.map((c) => [c.Labels[LABEL.release] ?? '', c]));
    const found: ReleaseRecord[] = [];
    for (const [releaseId, summary] of byRelease) {
      const known = records.find((r) => r.releaseId === releaseId);
      const port = summary.Ports.find((p) => p.IP === '127.0.0.1')?.PublicPort;
      if (known) {
        known.container = summary.Id;
        if (port) known.port = port;
        continue;
      }
      const info = await this.docker.getContainer(summary.Id).inspect();
      const labels = info.Config.Labels ?? {};
      // dockerode types PortBindings as `any`: the engine's shape is { "<port>/tcp": [{ HostPort }] }.
      const bindings = info.HostConfig.PortBindings as Record<string, { HostPort?: string }[]> | undefined;
      const bound = Number(bindings?.[`${this.options.containerPort}/tcp`]?.[0]?.HostPort);
      const address = containerAddress(info, this.options.containerPort);
      found.push({
        releaseId,
        app: labels[LABEL.app] ?? this.env.app,
        ref: labels[LABEL.ref] ?? '',
        digest: labels[LABEL.digest] ?? '',
        dir: releasePaths(this.env.paths, releaseId).dir,
        logPath: '',
        port: port ?? bound,
        pid: info.State.Running ? info.State.Pid : null,
        startedAt: info.State.StartedAt,
        deployedAt: info.Created,
        healthPath: labels[LABEL.healthPath] ?? '/healthz',
        readyPath: labels[LABEL.readyPath] ?? '/readyz',
        container: summary.Id,
        image: info.Image,
        restartCount: info.RestartCount,
        ...(address ? { address } : {}),
      });
    }
    const gone = records.filter((r) => r.container && !byRelease.has(r.releaseId)).map((r) => r.releaseId);
    for (const record of records) if (gone.includes(record.releaseId)) delete record.container;
    return { found, gone };
  }

  /** Releases whose container the engine restarted (a new pid, a higher restart count) since the last look. */
  async restartsSince(records: ReleaseRecord[]): Promise<Record<string, number>> {
    const restarted: Record<string, number> = {};
    for (const record of records) {
      const info = await this.inspect(record);
      if (!info?.State.Running || info.State.Restarting) continue;
      const count = info.RestartCount;
      if (info.State.Pid !== record.pid || count !== (record.restartCount ?? 0)) {
        record.pid = info.State.Pid;
        record.restartCount = count;
        this.locate(record, info); // a restarted container may come back on another address
        restarted[record.releaseId] = count;
      }
    }
    return restarted;
  }

  /** Creates the release's container (not started) on a free loopback port. */
  private async create(record: ReleaseRecord): Promise<void> {
    if (!record.image)
      throw new LocalEnvironmentError(`release ${record.releaseId} has no image recorded`, record.releaseId);
    const launch = await readLaunch(releasePaths(this.env.paths, record.releaseId).launch);
    const port = record.port || (await freePort());
    const secrets = await this.secretsFile(record);
    await writeSecrets(secrets, launch.secrets ?? {}); // a bind mount's source must exist at create
    const containerPort = `${this.options.containerPort}/tcp`;
    const data = this.env.paths.data;
    await mkdir(data, { recursive: true });
    const [uid, gid] = this.options.user.split(':').map(Number);
    // The container's user writes the shared data; a supervisor that may not chown leaves it as is.
    await chown(data, uid ?? 0, gid ?? uid ?? 0).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPERM') throw err;
      this.log(
        `data folder ${data}: not handed to ${this.options.user} (EPERM); the container may not write it`,
      );
    });
    await this.removeContainer(record, this.containerName(record.releaseId));
    const created = await this.engine(`creating ${record.releaseId}'s container`, () =>
      this.docker.createContainer({
        name: this.containerName(record.releaseId),
        Image: record.image,
        Entrypoint: ENTRYPOINT,
        Cmd: launch.start,
        WorkingDir: APP_DIR,
        User: this.options.user,
        Env: Object.entries({
          NODE_ENV: 'production',
          ...launch.env,
          HOST: '0.0.0.0',
          PORT: String(this.options.containerPort),
        }).map(([k, v]) => `${k}=${v}`),
        Labels: this.labels(record),
        ExposedPorts: { [containerPort]: {} },
        ...(launch.start[0] === 'node' ? { Healthcheck: this.healthcheck(record.healthPath) } : {}),
        HostConfig: {
          PortBindings: { [containerPort]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
          // Mounts, not Binds: a missing source fails the create instead of becoming an empty folder.
          Mounts: [
            { Type: 'bind', Source: secrets, Target: SECRETS_MOUNT, ReadOnly: true },
            { Type: 'bind', Source: data, Target: data },
          ],
          RestartPolicy: { Name: 'no' },
          ...(this.options.network ? { NetworkMode: this.options.network } : {}),
          ...(this.options.memoryMb ? { Memory: this.options.memoryMb * 1024 * 1024 } : {}),
          ...(this.options.cpus ? { NanoCpus: Math.round(this.options.cpus * 1e9) } : {}),
        },
      }),
    );
    record.container = created.id;
    record.port = port;
  }

  /** The engine's own view of the release's health: node fetches its health path inside the container. */
  private healthcheck(healthPath: string): Docker.HealthConfig {
    const script = `fetch('http://127.0.0.1:'+process.env.PORT+${JSON.stringify(healthPath)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
    return {
      Test: ['CMD', 'node', '-e', script],
      Interval: 5e9,
      Timeout: 3e9,
      Retries: 3,
      StartPeriod: 10e9,
    };
  }

  /** Records where the container answers on its network (see ReleaseRecord.address); none: the loopback port. */
  private locate(record: ReleaseRecord, info: Docker.ContainerInspectInfo | null): void {
    const address = info ? containerAddress(info, this.options.containerPort) : undefined;
    if (address) record.address = address;
    else delete record.address;
  }

  private labels(record: ReleaseRecord): Record<string, string> {
    return {
      [LABEL.app]: this.env.app,
      [LABEL.environment]: this.env.name,
      [LABEL.key]: this.key,
      [LABEL.release]: record.releaseId,
      [LABEL.ref]: record.ref,
      [LABEL.digest]: record.digest,
      [LABEL.role]: 'release',
      [LABEL.healthPath]: record.healthPath,
      [LABEL.readyPath]: record.readyPath,
    };
  }

  private secretsFile(record: ReleaseRecord): Promise<string> {
    return secretsPath(this.env.paths.dir, record.releaseId);
  }

  private async inspect(record: ReleaseRecord): Promise<Docker.ContainerInspectInfo | null> {
    if (!record.container) return null;
    const id = record.container;
    return this.engine(`looking at ${record.releaseId}`, () =>
      this.docker
        .getContainer(id)
        .inspect()
        .catch((err: unknown) => {
          if (engineStatus(err) === 404) return null;
          throw err;
        }),
    );
  }

  /** Removes the container (by id, or a leftover of the same name); nothing there is fine. */
  private async removeContainer(record: ReleaseRecord, name?: string): Promise<void> {
    const target = name ?? record.container;
    if (!target) return;
    await this.engine(`removing ${record.releaseId}'s container`, () =>
      this.docker
        .getContainer(target)
        .remove({ force: true })
        .catch((err: unknown) => {
          if (engineStatus(err) !== 404 && engineStatus(err) !== 409) throw err;
        }),
    );
    if (!name) delete record.container;
  }

  private engine<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withEngine(this.options.engine, what, fn);
  }
}

/**
 * `ip:port` of a running container on its (first) network, when the host can route to it: a bridge
 * network gives each container an address; `host` or `none` networking gives none.
 */
export function containerAddress(
  info: Docker.ContainerInspectInfo,
  containerPort: number,
): string | undefined {
  if (!info.State.Running) return undefined;
  const networks = Object.values(info.NetworkSettings.Networks ?? {});
  const ip = networks.find((n) => n.IPAddress)?.IPAddress;
  return ip ? `${ip}:${containerPort}` : undefined;
}
