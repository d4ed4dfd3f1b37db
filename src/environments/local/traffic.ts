/**
 * The proxy's memory of requests: a bounded ring buffer of recent ones (the verification window's
 * samples), and cumulative counters per release (requests, errors, a latency histogram), which a
 * canary's verdict compares: cumulative, so a reading that is missed loses nothing.
 */
import { emptyLatency } from '../../verification/readings.js';
import type { ReleaseTraffic, TrafficStats } from '../environment.js';

/** Status recorded for a request the proxy could not deliver (upstream unreachable, reset). */
export const PROXY_ERROR = 0;

/** Fixed-size record of (time, status, latency) per proxied request; the oldest entries drop off. */
export class TrafficRecorder {
  private readonly at: Float64Array;
  private readonly status: Uint16Array;
  private readonly latency: Float32Array;
  private next = 0;
  private size = 0;
  private readonly perRelease = new Map<string, ReleaseTraffic>();

  constructor(readonly capacity = 100_000) {
    this.at = new Float64Array(capacity);
    this.status = new Uint16Array(capacity);
    this.latency = new Float32Array(capacity);
  }

  /** Records one answered request (and counts it for the release that answered, when one did). */
  record(status: number, latencyMs: number, releaseId?: string, synthetic = false): void {
    if (releaseId !== undefined) this.count(releaseId, status, latencyMs, synthetic);
    this.at[this.next] = Date.now();
    this.status[this.next] = status;
    this.latency[this.next] = latencyMs;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Records a request the proxy failed to deliver to `releaseId`. */
  recordProxyError(latencyMs: number, releaseId?: string, synthetic = false): void {
    this.record(PROXY_ERROR, latencyMs, releaseId, synthetic);
  }

  /**
   * Counts a checkout (a POST to the canary's checkout path) for `releaseId`: 2xx succeeded, 5xx or
   * undelivered (PROXY_ERROR) failed, 4xx neither (the customer's own input); a probe's apart as
   * synthetic too. Call after record().
   */
  recordCheckout(releaseId: string, status: number, synthetic = false): void {
    const c = this.perRelease.get(releaseId);
    if (!c) return;
    const checkout = (c.checkout ??= { attempts: 0, succeeded: 0, failed: 0 });
    checkout.attempts += 1;
    if (synthetic) checkout.synthetic = (checkout.synthetic ?? 0) + 1;
    if (status >= 200 && status < 300) checkout.succeeded += 1;
    else if (status === PROXY_ERROR || status >= 500) checkout.failed += 1;
  }

  /** Each release's cumulative counters since this proxy started (copies). */
  counters(): Record<string, ReleaseTraffic> {
    const out: Record<string, ReleaseTraffic> = {};
    for (const [id, c] of this.perRelease) {
      out[id] = {
        ...c,
        latency: { boundsMs: [...c.latency.boundsMs], counts: [...c.latency.counts] },
        ...(c.checkout ? { checkout: { ...c.checkout } } : {}),
      };
    }
    return out;
  }

  private count(releaseId: string, status: number, latencyMs: number, synthetic: boolean): void {
    let c = this.perRelease.get(releaseId);
    if (!c) {
      c = { requests: 0, errors: 0, proxyErrors: 0, synthetic: 0, latency: emptyLatency() };
      this.perRelease.set(releaseId, c);
    }
    c.requests += 1;
    if (synthetic) c.synthetic = (c.synthetic ?? 0) + 1;
    if (status === PROXY_ERROR) {
      c.proxyErrors += 1;
      c.errors += 1;
    } else if (status >= 500) c.errors += 1;
    const bucket = c.latency.boundsMs.findIndex((bound) => latencyMs <= bound);
    c.latency.counts[bucket < 0 ? c.latency.boundsMs.length : bucket]! += 1;
  }

  /** Counts, 5xx, proxy errors and p95 latency of requests since `sinceMs` (epoch ms). */
  stats(sinceMs = 0): TrafficStats {
    const latencies: number[] = [];
    let errors5xx = 0;
    let proxyErrors = 0;
    for (let i = 0; i < this.size; i++) {
      const slot = (this.next - 1 - i + this.capacity) % this.capacity;
      if ((this.at[slot] ?? 0) < sinceMs) break; // newest first: everything after this is older
      const status = this.status[slot] ?? PROXY_ERROR;
      if (status === PROXY_ERROR) proxyErrors++;
      else if (status >= 500) errors5xx++;
      latencies.push(this.latency[slot] ?? 0);
    }
    latencies.sort((a, b) => a - b);
    const p95 = latencies.length ? (latencies[Math.ceil(latencies.length * 0.95) - 1] ?? null) : null;
    return {
      requests: latencies.length,
      errors5xx,
      proxyErrors,
      p95LatencyMs: p95 === null ? null : Math.round(p95 * 100) / 100,
    };
  }
}
