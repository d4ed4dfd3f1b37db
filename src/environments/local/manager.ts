/**
 * The supervisor's core: which releases run, which one serves, and the state.json that remembers it.
 * Mutations run one at a time; each writes the next state before traffic moves, so a crash leaves
 * the file describing what the proxy serves or is about to serve.
 */
import type { DeployedRelease, ReleaseSpec, RollbackResult } from '../environment.js';
import { FailureType } from '../../failures.js';
import { LocalEnvironmentError } from './errors.js';
import { awaitReady } from './launch.js';
import { assertSafeName, releasePaths, type EnvPaths } from './paths.js';
import { probe } from './net.js';
import { isAlive } from './processes.js';
import type { ProxyTarget } from './proxy.js';
import type { Routing } from './routing.js';
import type { ReleaseRuntime } from './runtime.js';
import { toDeployed, writeState, type EnvState, type HistoryEntry, type ReleaseRecord } from './state.js';

const WATCHDOG_MS = 1000;
const MAX_RESTART_BACKOFF_MS = 30_000;
/** How long a dead container is left to the engine's restart policy before the supervisor starts it. */
const ENGINE_GRACE_MS = 5000;

/** Owns the releases of one environment inside its supervisor. */
export class ReleaseManager {
  private queue: Promise<unknown> = Promise.resolve();
  private target: ProxyTarget | null = null;
  private canaryRoute: Routing['canary'];
  private stopping = false;
  private readonly backoff = new Map<string, { at: number; ms: number }>();
  private watchdog: NodeJS.Timeout | undefined;
  private readonly runtime: ReleaseRuntime;
  private noticing = false;

  /** `runtimeFor` builds what runs releases (processes or containers), told when the environment stops. */
  constructor(
    private readonly paths: EnvPaths,
    private state: EnvState,
    private readonly log: (line: string) => void,
    runtimeFor: (stopping: () => boolean) => ReleaseRuntime,
  ) {
    this.runtime = runtimeFor(() => this.stopping);
  }

  /** The last lines a release wrote (the current one by default), from wherever its runtime keeps them. */
  logs(releaseId: string | undefined, bytes: number): Promise<{ releaseId: string | null; tail: string }> {
    const id = releaseId ?? this.state.current;
    const record = id ? this.state.releases[id] : undefined;
    if (releaseId && !record)
      throw new LocalEnvironmentError(
        `release ${releaseId} is not deployed in ${this.state.name}`,
        releaseId,
      );
    if (!record) return Promise.resolve({ releaseId: null, tail: '' });
    return this.runtime.logTail(record, bytes).then((tail) => ({ releaseId: record.releaseId, tail }));
  }

  /** Where the proxy sends the next request. */
  currentTarget(): ProxyTarget | null {
    return this.target;
  }

  /** How the proxy splits traffic: to the current release, and a canary's customers to the canary. */
  routing(): Routing {
    const sticky = this.state.canary?.sticky;
    const checkoutPath = this.state.canary?.checkoutPath;
    return {
      stable: this.target,
      ...(this.canaryRoute ? { canary: this.canaryRoute } : {}),
      ...(sticky ? { sticky } : {}),
      ...(checkoutPath ? { checkoutPath } : {}),
    };
  }

  /**
   * Sends `weight` percent of customers (sticky: the same customers stay as it rises) to a deployed
   * release beside the current one, which keeps the rest; weight 0 keeps it warm with no traffic.
   * The state is written before the proxy reads the new weight. Idempotent.
   */
  setCanary(
    releaseId: string,
    weight: number,
    readyTimeoutMs: number,
    sticky?: { header?: string; cookie?: string },
    checkoutPath?: string,
  ): Promise<{ previousWeight: number | null }> {
    return this.serial(async () => {
      if (!Number.isFinite(weight) || weight < 0 || weight > 100)
        throw new LocalEnvironmentError(
          `canary weight ${weight} is not a percentage from 0 to 100`,
          releaseId,
        );
      if (releaseId === this.state.current)
        throw new LocalEnvironmentError(
          `release ${releaseId} is current in ${this.state.name}: it cannot be its canary`,
          releaseId,
        );
      const was = this.state.canary?.releaseId === releaseId ? this.state.canary.weight : null;
      const next = structuredClone(this.state);
      await this.ensureRunning(next, releaseId, readyTimeoutMs);
      next.canary = {
        releaseId,
        weight,
        since: was === null ? new Date().toISOString() : next.canary!.since,
        ...(sticky ? { sticky } : {}),
        ...(checkoutPath ? { checkoutPath } : {}),
      };
      if (was !== weight) this.note(next, 'canary', releaseId, `${weight}% of customers`);
      await this.commit(next);
      return { previousWeight: was };
    });
  }

  /** Sends every customer back to the current release; the canary keeps running until retired. Idempotent. */
  clearCanary(): Promise<{ cleared: string | null }> {
    return this.serial(async () => {
      const canary = this.state.canary;
      if (!canary) return { cleared: null };
      const next = structuredClone(this.state);
      next.canary = null;
      this.note(next, 'canary', canary.releaseId, 'cleared: every customer on the current release');
      await this.commit(next);
      return { cleared: canary.releaseId };
    });
  }

  /** The state and which release processes are alive. */
  snapshot(): { state: EnvState; alive: Record<string, boolean> } {
    const alive: Record<string, boolean> = {};
    for (const r of Object.values(this.state.releases)) alive[r.releaseId] = r.pid !== null && isAlive(r.pid);
    return { state: this.state, alive };
  }

  /**
   * After a supervisor (re)start: first what the runtime really holds (a container engine's releases,
   * found by their labels even when state.json lost them), then adopt live, healthy releases and
   * restart the others.
   */
  recover(readyTimeoutMs: number): Promise<void> {
    return this.serial(async () => {
      const next = structuredClone(this.state);
      // An engine that does not answer yet leaves state.json's view; each later call asks it again.
      const { found, gone } = await this.runtime
        .reconcile(Object.values(next.releases))
        .catch((err: unknown) => {
          this.log(`recover: ${(err as Error).message}`);
          return { found: [], gone: [] };
        });
      for (const record of found) {
        next.releases[record.releaseId] = record;
        this.note(next, 'adopted', record.releaseId, 'found in the engine (not in state.json)');
      }
      for (const releaseId of gone)
        this.note(next, 'restarted', releaseId, 'its container was gone: made anew');
      for (const record of Object.values(next.releases)) {
        // A parked release (pid null, kept for rollback) stays stopped; rollback starts it again.
        if (record.pid === null && record.releaseId !== next.current) continue;
        try {
          if (record.pid !== null && (await this.runtime.adoptable(record))) {
            // A release adopted before its deploy finished gets what a ready one has (the restart policy).
            await this.runtime.ready(record);
            this.note(next, 'adopted', record.releaseId, `pid ${record.pid}`);
            continue;
          }
          await this.launch(record, readyTimeoutMs);
          this.note(next, 'restarted', record.releaseId, `pid ${record.pid} port ${record.port}`);
        } catch (err) {
          // An engine that does not answer says nothing about the release: the watchdog looks again.
          if ((err as LocalEnvironmentError).type !== FailureType.EngineUnavailable) record.pid = null;
          this.log(`recover: ${(err as Error).message}`);
        }
      }
      await this.commit(next);
      this.watchdog = setInterval(() => this.checkProcesses(readyTimeoutMs), WATCHDOG_MS);
    });
  }

  /** Unpacks and starts a release and waits for readiness; idempotent per releaseId. */
  deploy(spec: ReleaseSpec, readyTimeoutMs: number): Promise<DeployedRelease> {
    return this.serial(async () => {
      assertSafeName('release id', spec.releaseId);
      const existing = this.state.releases[spec.releaseId];
      if (existing) {
        if (existing.digest !== spec.artifact.digest) {
          throw new LocalEnvironmentError(
            `release ${spec.releaseId} is already deployed from ${existing.digest}, not ${spec.artifact.digest}`,
            spec.releaseId,
          );
        }
        const next = structuredClone(this.state);
        await this.ensureRunning(next, spec.releaseId, readyTimeoutMs);
        await this.commit(next);
        return toDeployed(next.releases[spec.releaseId] as ReleaseRecord);
      }
      const files = releasePaths(this.paths, spec.releaseId);
      const now = new Date().toISOString();
      const record: ReleaseRecord = {
        releaseId: spec.releaseId,
        app: spec.app,
        ref: spec.ref,
        digest: spec.artifact.digest,
        dir: files.dir,
        logPath: files.log,
        port: 0,
        pid: null,
        startedAt: now,
        deployedAt: now,
        healthPath: spec.healthPath,
        readyPath: spec.readyPath,
      };
      try {
        await this.runtime.prepare(spec, record);
        await this.launch(record, readyTimeoutMs);
      } catch (err) {
        // No half-deployed environment: the process or container is gone, so are its files.
        await this.runtime
          .remove(record)
          .catch((cleanup: unknown) =>
            this.log(`cleanup after a failed deploy of ${record.releaseId}: ${(cleanup as Error).message}`),
          );
        if (err instanceof LocalEnvironmentError) throw err;
        throw new LocalEnvironmentError(
          `deploy of ${spec.releaseId} failed: ${(err as Error).message}`,
          spec.releaseId,
        );
      }
      const next = structuredClone(this.state);
      next.releases[record.releaseId] = record;
      this.note(next, 'deployed', record.releaseId, `pid ${record.pid} port ${record.port}`);
      await this.commit(next);
      return toDeployed(record);
    });
  }

  /** Makes `releaseId` the proxy target; the current one becomes previous. */
  activate(releaseId: string, readyTimeoutMs: number): Promise<{ previous: string | null }> {
    return this.serial(async () => {
      if (this.state.current === releaseId && this.target?.releaseId === releaseId)
        return { previous: this.state.previous };
      const next = structuredClone(this.state);
      await this.ensureRunning(next, releaseId, readyTimeoutMs);
      // The canary promoted: it now takes every customer as the current release.
      if (next.canary?.releaseId === releaseId) next.canary = null;
      if (next.current !== releaseId) {
        next.previous = next.current;
        next.current = releaseId;
        next.lastRollback = null;
        delete (next.releases[releaseId] as ReleaseRecord).rolledBackAt;
        this.note(next, 'activated', releaseId, next.previous ? `from ${next.previous}` : undefined);
      }
      await this.commit(next);
      return { previous: next.previous };
    });
  }

  /**
   * Moves traffic back to the previous release. The release rolled back from keeps running (marked
   * rolledBackAt, neither current nor previous) until retired, and previous becomes null, so a retried
   * rollback cannot flip traffic back to it: it answers the same as the first one.
   */
  rollback(readyTimeoutMs: number, requestId?: string): Promise<RollbackResult> {
    return this.serial(async () => {
      const { current, previous, lastRollback } = this.state;
      if (previous === null) {
        if (lastRollback && lastRollback.to === current) {
          // The same request again (a retried activity) is told what it did; any other, that it did nothing.
          const same = requestId !== undefined && lastRollback.requestId === requestId;
          return { from: lastRollback.from, to: lastRollback.to, changed: same, at: lastRollback.at };
        }
        return { from: null, to: null, changed: false };
      }
      const next = structuredClone(this.state);
      await this.ensureRunning(next, previous, readyTimeoutMs);
      next.current = previous;
      next.previous = null;
      next.canary = null; // every customer on the release rolled back to
      if (current !== null) {
        next.lastRollback = {
          from: current,
          to: previous,
          at: new Date().toISOString(),
          ...(requestId ? { requestId } : {}),
        };
        const from = next.releases[current];
        if (from) from.rolledBackAt = next.lastRollback.at;
      }
      this.note(next, 'rolled-back', previous, current ? `from ${current}` : undefined);
      await this.commit(next);
      return {
        from: current,
        to: previous,
        changed: true,
        at: next.lastRollback?.at ?? new Date().toISOString(),
      };
    });
  }

  /** Takes the current release out of traffic; the proxy answers 503 until one is activated. Idempotent. */
  deactivate(): Promise<{ previous: string | null }> {
    return this.serial(async () => {
      const { current } = this.state;
      if (current === null) return { previous: null };
      const next = structuredClone(this.state);
      next.current = null;
      this.note(next, 'deactivated', current);
      await this.commit(next);
      return { previous: current };
    });
  }

  /** Stops a release that does not serve and deletes its directory; refuses the current one. */
  retire(releaseId: string): Promise<{ retired: boolean }> {
    return this.serial(async () => {
      if (releaseId === this.state.current) {
        throw new LocalEnvironmentError(
          `release ${releaseId} is current in ${this.state.name}; activate another first`,
          releaseId,
        );
      }
      if (releaseId === this.state.canary?.releaseId) {
        throw new LocalEnvironmentError(
          `release ${releaseId} is the canary in ${this.state.name}; clear the canary first`,
          releaseId,
        );
      }
      if (!this.state.releases[releaseId]) return { retired: false };
      const next = structuredClone(this.state);
      await this.remove(next, releaseId);
      await this.commit(next);
      return { retired: true };
    });
  }

  /** Stops the previous release (kept for rollback, not warm) and deletes every release older than it. */
  settle(): Promise<{ parked: string | null; retired: string[] }> {
    return this.serial(async () => {
      const next = structuredClone(this.state);
      const keep = new Set([next.current, next.previous, next.canary?.releaseId ?? null]);
      const retired: string[] = [];
      for (const releaseId of Object.keys(next.releases)) {
        if (keep.has(releaseId)) continue;
        await this.remove(next, releaseId);
        retired.push(releaseId);
      }
      const previous = next.previous ? next.releases[next.previous] : undefined;
      let parked: string | null = null;
      if (previous && previous.pid !== null) {
        // pid null: the watchdog leaves it stopped; rollback's ensureRunning starts it again.
        await this.runtime.stop(previous);
        previous.pid = null;
        this.note(next, 'parked', previous.releaseId);
        parked = previous.releaseId;
      }
      await this.commit(next);
      return { parked, retired };
    });
  }

  /** Stops a release and deletes its files from `next` (the caller commits). */
  private async remove(next: EnvState, releaseId: string): Promise<void> {
    const record = next.releases[releaseId];
    if (!record) return;
    await this.runtime.remove(record);
    delete next.releases[releaseId];
    if (next.previous === releaseId) next.previous = null;
    this.note(next, 'retired', releaseId);
  }

  /** Stops every release (state keeps them: the next supervisor start brings them back). */
  stopAll(): Promise<{ stopped: string[] }> {
    this.stopping = true;
    clearInterval(this.watchdog);
    return this.serial(async () => {
      const next = structuredClone(this.state);
      const running = Object.values(next.releases).filter((r) => r.pid !== null);
      // Every stop is tried; one that fails (an engine gone) is logged, and the environment stops anyway.
      const stops = await Promise.allSettled(running.map((r) => this.runtime.stop(r)));
      for (const [i, stop] of stops.entries())
        if (stop.status === 'rejected')
          this.log(`stop ${running[i]!.releaseId}: ${(stop.reason as Error).message}`);
      for (const r of running) {
        r.pid = null;
        this.note(next, 'stopped', r.releaseId);
      }
      this.target = null;
      this.canaryRoute = undefined;
      await writeState(this.paths.state, next);
      this.state = next;
      return { stopped: running.map((r) => r.releaseId) };
    });
  }

  /** Containers the engine restarted since the last look: their new pids, a history line and a log line each. */
  private async noticeEngineRestarts(): Promise<void> {
    if (this.stopping) return;
    const next = structuredClone(this.state);
    const restarted = await this.runtime.restartsSince(
      Object.values(next.releases).filter((r) => r.pid !== null),
    );
    const ids = Object.keys(restarted);
    if (ids.length === 0) return;
    for (const releaseId of ids) {
      const detail = `by the engine's restart policy (${restarted[releaseId]} restart(s) so far)`;
      this.note(next, 'restarted', releaseId, detail);
      this.log(`release ${releaseId} restarted ${detail}`);
      this.backoff.delete(releaseId);
    }
    await this.commit(next);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Persists `next`, then points the proxy at its current release. */
  private async commit(next: EnvState): Promise<void> {
    await writeState(this.paths.state, next);
    this.state = next;
    const current = next.current ? next.releases[next.current] : undefined;
    this.target = current && current.pid !== null ? targetOf(current) : null;
    const canary = next.canary ? next.releases[next.canary.releaseId] : undefined;
    this.canaryRoute =
      canary && canary.pid !== null && next.canary
        ? { target: targetOf(canary), weight: next.canary.weight }
        : undefined;
  }

  private note(state: EnvState, event: HistoryEntry['event'], releaseId: string, detail?: string): void {
    state.history.push({ at: new Date().toISOString(), event, releaseId, ...(detail ? { detail } : {}) });
  }

  /** The release runs and is ready, restarted from its directory if its process is gone. */
  private async ensureRunning(next: EnvState, releaseId: string, readyTimeoutMs: number): Promise<void> {
    const record = next.releases[releaseId];
    if (!record)
      throw new LocalEnvironmentError(`release ${releaseId} is not deployed in ${next.name}`, releaseId);
    // A container answers on its own address whether its engine answers or not (the engine may be
    // restarting; live-restore keeps containers running): ready there is enough to switch to it, so
    // a switch back never waits for the engine. The watchdog's next look at the engine catches up.
    if (record.address && record.pid !== null && (await probe(readyUrl(record), 1000)).status === 200) return;
    if (record.pid !== null && (await this.runtime.running(record))) {
      await awaitReady(this.watch(record, readyTimeoutMs));
      return;
    }
    await this.launch(record, readyTimeoutMs);
    this.note(next, 'restarted', releaseId, `pid ${record.pid} port ${record.port}`);
  }

  /** Starts the release (same port when still free) and waits for readiness; then the runtime's policies apply. */
  private async launch(record: ReleaseRecord, readyTimeoutMs: number): Promise<void> {
    await this.runtime.start(record);
    await awaitReady(this.watch(record, readyTimeoutMs));
    await this.runtime.ready(record);
  }

  /** What readiness watches of a starting release. */
  private watch(record: ReleaseRecord, timeoutMs: number) {
    return {
      releaseId: record.releaseId,
      url: readyUrl(record),
      timeoutMs,
      alive: () => this.runtime.running(record),
      tail: () => this.runtime.logTail(record),
      stop: () => this.runtime.stop(record),
    };
  }

  /** The watchdog: a release whose process died is restarted, with a growing pause between tries. */
  private checkProcesses(readyTimeoutMs: number): void {
    if (this.stopping) return;
    const dead = Object.values(this.state.releases).filter((r) => r.pid !== null && !isAlive(r.pid));
    if (dead.length === 0) return;
    if (this.runtime.restarts === 'engine' && !this.noticing) {
      // The engine's restart policy restarts containers; look first (one look at a time), start one
      // only if it does not.
      this.noticing = true;
      void this.serial(() => this.noticeEngineRestarts())
        .catch((err: unknown) => this.log(`watchdog: ${(err as Error).message}`))
        .finally(() => (this.noticing = false));
    }
    for (const record of dead) {
      if (this.runtime.restarts === 'engine' && !this.backoff.has(record.releaseId)) {
        // The engine gets the first go (its policy restarts within a second); the supervisor starts
        // the container itself only when the engine has not after ENGINE_GRACE_MS.
        this.backoff.set(record.releaseId, { at: Date.now() + ENGINE_GRACE_MS, ms: ENGINE_GRACE_MS });
        continue;
      }
      const wait = this.backoff.get(record.releaseId);
      if (wait && Date.now() < wait.at) continue;
      const ms = Math.min((wait?.ms ?? 500) * 2, MAX_RESTART_BACKOFF_MS);
      this.backoff.set(record.releaseId, { at: Date.now() + ms, ms });
      const releaseId = record.releaseId;
      this.serial(async () => {
        if (this.stopping) return;
        const next = structuredClone(this.state);
        const fresh = next.releases[releaseId];
        // Looked at again under the lock: settle may have parked it (pid null) while this waited.
        if (!fresh || fresh.pid === null || isAlive(fresh.pid)) return;
        if (this.runtime.restarts === 'engine' && (await this.runtime.running(fresh))) return;
        await this.ensureRunning(next, releaseId, readyTimeoutMs);
        await this.commit(next);
        this.backoff.delete(releaseId);
      }).catch((err: unknown) => this.log(`watchdog: ${(err as Error).message}`));
    }
  }
}

function readyUrl(record: ReleaseRecord): string {
  return `http://${record.address ?? `127.0.0.1:${record.port}`}${record.readyPath}`;
}

/** Where the proxy sends a release's requests. */
function targetOf(record: ReleaseRecord): ProxyTarget {
  return {
    releaseId: record.releaseId,
    port: record.port,
    ...(record.address ? { address: record.address } : {}),
  };
}
