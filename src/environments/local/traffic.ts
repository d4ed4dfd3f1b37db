/** The proxy's memory of recent requests: a bounded ring buffer the verification window reads. */
import type { TrafficStats } from '../environment.js';

/** Status recorded for a request the proxy could not deliver (upstream unreachable, reset). */
const PROXY_ERROR = 0;

/** Fixed-size record of (time, status, latency) per proxied request; the oldest entries drop off. */
export class TrafficRecorder {
  private readonly at: Float64Array;
  private readonly status: Uint16Array;
  private readonly latency: Float32Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity = 100_000) {
    this.at = new Float64Array(capacity);
    this.status = new Uint16Array(capacity);
    this.latency = new Float32Array(capacity);
  }

  /** Records one answered request. */
  record(status: number, latencyMs: number): void {
    this.at[this.next] = Date.now();
    this.status[this.next] = status;
    this.latency[this.next] = latencyMs;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Records a request the proxy failed to deliver. */
  recordProxyError(latencyMs: number): void {
    this.record(PROXY_ERROR, latencyMs);
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
