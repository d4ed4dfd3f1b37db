/**
 * What runs a release inside an environment's supervisor: a process on the host (`local`) or a
 * container under a Docker engine (`docker`). The supervisor, its proxy, its state and every traffic
 * decision are the same for both; only starting, stopping and looking at a release differ.
 */
import type { ReleaseSpec } from '../environment.js';
import type { ReleaseRecord } from './state.js';

/** How a Docker environment runs its releases (config `docker`); no secret ever goes here. */
export interface DockerRuntimeOptions {
  kind: 'docker';
  /** The engine's address: `unix:///var/run/docker.sock` or `tcp://127.0.0.1:2375`. */
  engine: string;
  /** The network containers join (default: the engine's bridge). */
  network?: string;
  /** Memory limit in MiB. */
  memoryMb?: number;
  /** CPU limit in cores (e.g. 0.5). */
  cpus?: number;
  /** The engine's restart policy once a release is ready. */
  restart: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  /** The image host builds (release tarballs) are put on, e.g. `node:20-slim`. */
  baseImage: string;
  /** The user the container runs as (`uid:gid`) (the node images' node user by default). */
  user: string;
  /** The port the release listens on inside its container (its PORT). */
  containerPort: number;
}

/** Which runtime an environment uses: processes (the default) or containers. */
export type RuntimeOptions = { kind: 'process' } | DockerRuntimeOptions;

/** One running release as its runtime sees it (a pid; for a container, its id as well). */
export interface ReleaseRuntime {
  readonly kind: RuntimeOptions['kind'];
  /**
   * Who restarts a release whose process died: the supervisor's watchdog (processes), or the engine's
   * restart policy (containers), in which case the watchdog only notices and reports it.
   */
  readonly restarts: 'supervisor' | 'engine';
  /** Unpacks or pulls what the release needs, before its first start (the record gets its files). */
  prepare(spec: ReleaseSpec, record: ReleaseRecord): Promise<void>;
  /** Starts the release on a free loopback port; sets pid, port and startedAt. Readiness is the caller's. */
  start(record: ReleaseRecord): Promise<void>;
  /** True while the release runs (a container restarting under its policy is not running). */
  running(record: ReleaseRecord): Promise<boolean>;
  /** After the release proved ready: what the runtime applies from then on (the engine's restart policy). */
  ready(record: ReleaseRecord): Promise<void>;
  /** Stops it, keeping what a later start needs. */
  stop(record: ReleaseRecord): Promise<void>;
  /** Stops it and deletes everything of it (files, container, secrets). */
  remove(record: ReleaseRecord): Promise<void>;
  /** The last lines of its output, for error messages and `tollgate env logs`. */
  logTail(record: ReleaseRecord, bytes?: number): Promise<string>;
  /** After a supervisor restart: the running thing is this release (pids get reused; containers carry labels). */
  adoptable(record: ReleaseRecord): Promise<boolean>;
  /**
   * Brings records in line with where the state really lives (the engine's containers): fills in pids
   * and ports, notes releases whose container is gone, and returns containers the state lacks.
   */
  reconcile(records: ReleaseRecord[]): Promise<{ found: ReleaseRecord[]; gone: string[] }>;
  /** Restarts since the last look, per release, when the engine restarts them (else empty). */
  restartsSince(records: ReleaseRecord[]): Promise<Record<string, number>>;
}
