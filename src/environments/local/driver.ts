/** The `local` environment driver: what activities call. Every call goes to the environment's supervisor. */
import { existsSync } from 'node:fs';
import type {
  DeployedRelease,
  Environment,
  EnvironmentHealth,
  ReleaseSpec,
  RollbackResult,
  ReleaseTraffic,
  TrafficStats,
} from '../environment.js';
import { connectEngine } from '../docker/engine.js';
import { callControl, isSupervisorGone } from './control-client.js';
import { ensureSupervisor } from './launcher.js';
import { probe } from './net.js';
import { envPaths, type EnvPaths } from './paths.js';
import type { ControlOp, ControlOps } from './protocol.js';
import type { RuntimeOptions } from './runtime.js';
import { toDeployed } from './state.js';
import { stopEnvironment } from './status.js';

/** How to reach one local environment. */
export interface LocalEnvironmentOptions {
  /** The app it belongs to: environments are kept per app (none: a schema 1 environment, see envPaths). */
  app?: string;
  name: string;
  /** The proxy's fixed loopback port. */
  port: number;
  /** Tollgate's home directory; the environment lives in `<home>/envs/<app>/<name>/`. */
  home: string;
  /** How long a release may take to answer its readyPath (default 60 s). */
  readyTimeoutMs?: number;
  /** Timeout of the health check through the proxy (default 2 s). */
  healthTimeoutMs?: number;
  /** What runs the releases: host processes (default), or containers (the docker driver). */
  runtime?: RuntimeOptions;
}

const CALL_TIMEOUT_MS = 30_000;

/** One local environment: releases as supervised processes behind a switching reverse proxy. */
export class LocalEnvironment implements Environment {
  readonly name: string;
  readonly url: string;
  private readonly paths: EnvPaths;
  private readonly readyTimeoutMs: number;
  private readonly healthTimeoutMs: number;
  private checked = false;

  constructor(private readonly options: LocalEnvironmentOptions) {
    this.name = options.name;
    this.url = `http://127.0.0.1:${options.port}`;
    this.paths = envPaths(options.home, options);
    this.readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
    this.healthTimeoutMs = options.healthTimeoutMs ?? 2000;
  }

  /** Unpacks and starts the release beside the current one; idempotent per releaseId. */
  deploy(spec: ReleaseSpec): Promise<DeployedRelease> {
    return this.call(
      'deploy',
      { spec, readyTimeoutMs: this.readyTimeoutMs },
      this.readyTimeoutMs + CALL_TIMEOUT_MS,
    );
  }

  /** Switches the proxy to the release; idempotent when it already serves. */
  activate(releaseId: string): Promise<{ previous: string | null }> {
    return this.call(
      'activate',
      { releaseId, readyTimeoutMs: this.readyTimeoutMs },
      this.readyTimeoutMs + CALL_TIMEOUT_MS,
    );
  }

  /** Switches back to the previous release; repeating it answers the same and changes nothing. */
  rollback(requestId?: string): Promise<RollbackResult> {
    // Never deployed to (no state): nothing to go back to, and no reason to start a supervisor for it.
    if (!existsSync(this.paths.state)) return Promise.resolve({ from: null, to: null, changed: false });
    return this.call(
      'rollback',
      { readyTimeoutMs: this.readyTimeoutMs, ...(requestId ? { requestId } : {}) },
      this.readyTimeoutMs + CALL_TIMEOUT_MS,
    );
  }

  /** The release serving traffic, if any. */
  async current(): Promise<DeployedRelease | null> {
    const { state } = await this.call('status', {});
    const record = state.current ? state.releases[state.current] : undefined;
    return record ? toDeployed(record) : null;
  }

  /** The release that served before the current one, if any (null after a rollback). */
  async previous(): Promise<DeployedRelease | null> {
    const { state } = await this.call('status', {});
    const record = state.previous ? state.releases[state.previous] : undefined;
    return record ? toDeployed(record) : null;
  }

  /** GET the current release's healthPath through the proxy. */
  async health(): Promise<EnvironmentHealth> {
    const { state } = await this.call('status', {});
    const record = state.current ? state.releases[state.current] : undefined;
    if (!record)
      return { ok: false, releaseId: null, status: null, latencyMs: 0, detail: 'no active release' };
    const result = await probe(`${this.url}${record.healthPath}`, this.healthTimeoutMs);
    const detail = result.error ?? (result.body.slice(0, 200) || `HTTP ${result.status}`);
    // A container's own healthcheck (the engine's view from inside it) can say unhealthy too.
    const engine = await this.containerHealth(record.container);
    return {
      ok: result.status === 200 && engine !== 'unhealthy',
      releaseId: record.releaseId,
      status: result.status,
      latencyMs: Math.round(result.latencyMs * 100) / 100,
      detail: engine === 'unhealthy' ? `the container's healthcheck says unhealthy; ${detail}` : detail,
    };
  }

  /** The engine's healthcheck state of a docker release's container; undefined when not known. */
  private async containerHealth(container: string | undefined): Promise<string | undefined> {
    if (this.options.runtime?.kind !== 'docker' || !container) return undefined;
    const info = await connectEngine(this.options.runtime.engine)
      .getContainer(container)
      .inspect()
      .catch(() => undefined); // an engine that does not answer says nothing either way
    return info?.State.Health?.Status;
  }

  /** Requests, 5xx, proxy errors and p95 latency seen by the proxy since `since` (ISO time). */
  traffic(since?: string): Promise<TrafficStats> {
    return this.call('traffic', since === undefined ? {} : { since });
  }

  /** Sends `weight` percent of customers (sticky per `sticky`, else per client address) to a deployed release. */
  setCanary(
    releaseId: string,
    weight: number,
    sticky?: { header?: string; cookie?: string },
    checkoutPath?: string,
  ): Promise<{ previousWeight: number | null }> {
    return this.call(
      'canary',
      {
        releaseId,
        weight,
        readyTimeoutMs: this.readyTimeoutMs,
        ...(sticky ? { sticky } : {}),
        ...(checkoutPath ? { checkoutPath } : {}),
      },
      this.readyTimeoutMs + CALL_TIMEOUT_MS,
    );
  }

  /** Sends every customer back to the current release (idempotent). */
  clearCanary(): Promise<{ cleared: string | null }> {
    return this.call('clearCanary', {});
  }

  /** Each release's cumulative counters at the proxy since the supervisor started (for canary verdicts). */
  counters(): Promise<Record<string, ReleaseTraffic>> {
    return this.call('counters', {});
  }

  /** Parks the previous release (stopped, kept for rollback) and deletes older ones. */
  settle(): Promise<{ parked: string | null; retired: string[] }> {
    return this.call('settle', {});
  }

  /** Takes the current release out of traffic (503 until another is activated). */
  deactivate(): Promise<{ previous: string | null }> {
    return this.call('deactivate', {});
  }

  /** Stops a release that does not serve and deletes its directory; refuses the current one. */
  async retire(releaseId: string): Promise<void> {
    await this.call('retire', { releaseId });
  }

  /** The last output of a release (the current one by default), from its log file or its container. */
  logs(releaseId?: string, bytes?: number): Promise<{ releaseId: string | null; tail: string }> {
    return this.call('logs', {
      ...(releaseId ? { releaseId } : {}),
      ...(bytes ? { bytes } : {}),
    });
  }

  /** Stops every release and the supervisor (state.json stays: the next call starts them again). */
  async stop(): Promise<void> {
    await stopEnvironment(this.paths);
  }

  /** Calls the supervisor, (re)starting it when it is gone; operations are idempotent, so resending is safe. */
  private async call<K extends ControlOp>(
    op: K,
    body: ControlOps[K]['req'],
    timeoutMs = CALL_TIMEOUT_MS,
  ): Promise<ControlOps[K]['res']> {
    // The first call checks that a running supervisor runs this driver's runtime (or starts one).
    if (!this.checked) {
      await ensureSupervisor(this.options.name, this.options.port, this.paths, this.options.runtime);
      this.checked = true;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await callControl(this.paths.socket, op, body, timeoutMs);
      } catch (err) {
        if (!isSupervisorGone(err) || attempt === 3) throw err;
        await ensureSupervisor(this.options.name, this.options.port, this.paths, this.options.runtime);
      }
    }
  }
}
