/**
 * Where releases go. A driver deploys a release beside the one serving, moves traffic
 * atomically, rolls back to the previous release, and reports health. `local` is the
 * embedded default; docker compose and Kubernetes drivers come later behind this interface.
 */
import type { ArtifactRef } from '../types.js';

/** Everything a driver needs to run one release (resolved on the worker; secrets never in history). */
export interface ReleaseSpec {
  /** Unique per release, e.g. `<app>-<ref12>-<digest8>`; names the release's directory. */
  releaseId: string;
  app: string;
  ref: string;
  artifact: ArtifactRef;
  /** argv run inside the unpacked release directory, e.g. ['node', 'dist/server.js']. */
  start: string[];
  /** Plain env for the release process; the driver adds PORT. */
  env: Record<string, string>;
  /** Secret env values, passed to the process only. */
  secrets: Record<string, string>;
  /** Path that answers 200 when the release is alive, e.g. '/healthz'. */
  healthPath: string;
  /** Path that answers 200 when the release is ready for traffic, e.g. '/readyz'. */
  readyPath: string;
}

/** A release the driver has running. */
export interface DeployedRelease {
  releaseId: string;
  ref: string;
  digest: string;
  /** Direct (not through the proxy) URL of the release, e.g. http://127.0.0.1:43121 */
  url: string;
  pid: number;
  startedAt: string;
}

/** Health of the environment as seen through its proxy. */
/** What a rollback did (declared with the shared types: the rollback workflow returns it). */
export type { RollbackResult } from '../types.js';
import type { RollbackResult } from '../types.js';

export interface EnvironmentHealth {
  ok: boolean;
  /** Release serving traffic, if any. */
  releaseId: string | null;
  status: number | null;
  latencyMs: number;
  detail: string;
}

/** Traffic seen by the proxy since a point in time: what the verification window compares. */
export interface TrafficStats {
  requests: number;
  errors5xx: number;
  /** Proxy-level failures (upstream unreachable, reset) count as errors too. */
  proxyErrors: number;
  p95LatencyMs: number | null;
}

/**
 * One release's cumulative counters at the proxy since it started counting it: what a canary's
 * verdict compares (src/verification). `errors` counts 5xx answers and requests the proxy could not
 * deliver (also counted apart in `proxyErrors`); `latency.counts[i]` requests took at most
 * `latency.boundsMs[i]` ms (and more than the bound before), the last count the rest.
 */
export interface ReleaseTraffic {
  requests: number;
  errors: number;
  proxyErrors: number;
  /** Of `requests`, the canary's probes (synthetic traffic that tops thin traffic up). */
  synthetic?: number;
  /**
   * POSTs to the canary's checkout path (from its setCanary on): answered 2xx (a checkout that
   * reached the payment provider and succeeded), 5xx or undelivered (failed), and all of them; of
   * the attempts, the canary's payment probes (`synthetic`, absent where none came).
   */
  checkout?: { attempts: number; succeeded: number; failed: number; synthetic?: number };
  latency: { boundsMs: number[]; counts: number[] };
}

/** One environment (staging, production) as a driver sees it. */
export interface Environment {
  readonly name: string;
  /** The stable URL clients use (the proxy's). */
  readonly url: string;
  /** Unpacks and starts the release beside the current one; resolves when it answers readyPath. Not in traffic yet. */
  deploy(spec: ReleaseSpec): Promise<DeployedRelease>;
  /** Moves traffic to the release atomically: in-flight requests finish on the old one. */
  activate(releaseId: string): Promise<{ previous: string | null }>;
  /**
   * Moves traffic back to the previous release (which must still be running, or is restarted).
   * `requestId` names the request: repeating it answers as the first time (`changed: true`); another
   * request after the switch answers the last rollback with `changed: false`.
   */
  rollback(requestId?: string): Promise<RollbackResult>;
  /**
   * Takes the current release out of traffic (the proxy answers 503) without starting another:
   * used when a failed first release must stop serving and there is nothing to go back to.
   */
  deactivate(): Promise<{ previous: string | null }>;
  /** The release serving traffic, if any. */
  current(): Promise<DeployedRelease | null>;
  /** The release that served before the current one, if any. */
  previous(): Promise<DeployedRelease | null>;
  /** Health through the proxy. */
  health(): Promise<EnvironmentHealth>;
  /** Proxy traffic stats since the given ISO time (or since the proxy started). */
  traffic(since?: string): Promise<TrafficStats>;
  /**
   * Sends `weight` percent of customers to a deployed release beside the current one, sticky per
   * customer (the `sticky` header or cookie, else the client address): the same customers stay on it
   * as the weight rises. `activate` promotes it; `clearCanary` sends everyone back.
   */
  setCanary(
    releaseId: string,
    weight: number,
    sticky?: { header?: string; cookie?: string },
    checkoutPath?: string,
  ): Promise<{ previousWeight: number | null }>;
  /** Every customer back on the current release; the canary keeps running until retired. */
  clearCanary(): Promise<{ cleared: string | null }>;
  /** Each release's cumulative counters at the environment's proxy (see ReleaseTraffic). */
  counters(): Promise<Record<string, ReleaseTraffic>>;
  /**
   * After a release has proven itself: stops the previous release's process but keeps it (files,
   * place as `previous`) so a later rollback can restart it, and deletes every older release.
   */
  settle(): Promise<{ parked: string | null; retired: string[] }>;
  /** Stops a release that no longer serves and deletes its directory. Refuses the current one. */
  retire(releaseId: string): Promise<void>;
  /** Stops the proxy and every release of this environment. */
  stop(): Promise<void>;
}
