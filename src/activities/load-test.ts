/**
 * The load test before a promotion (issue 18): a bounded, fixed-rate load through an environment's
 * proxy with autocannon (the load generator of the Node and Fastify maintainers), its p95 and error
 * rate then gated by the config's limits (src/verification/load-test.ts). Bounded three ways: the
 * rate (autocannon's overallRate), the duration, and the connections.
 */
import autocannon from 'autocannon';
import type { LoadTestPlan, LoadTestReport } from '../verification/load-test.js';

/** The nearest-rank quantile of sorted latencies. */
function quantileOf(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs the load against `url` (the environment's proxy); `beat` every second; `signal` stops it early. */
export function runLoadTest(
  url: string,
  plan: LoadTestPlan,
  signal: AbortSignal,
  beat: (sent: number) => void,
): Promise<LoadTestReport> {
  return new Promise((resolve, reject) => {
    // Every response's own time: autocannon's result has no p95 (it reports p90 and p97.5).
    const latencies: number[] = [];
    let status5xx = 0;
    let requestErrors = 0;
    const instance = autocannon(
      {
        url,
        connections: plan.connections,
        overallRate: plan.ratePerSecond,
        duration: plan.durationMs / 1000,
        timeout: 10,
        requests: plan.routes.map((path) => ({ method: 'GET' as const, path })),
      },
      (error, result) => {
        clearInterval(beating);
        signal.removeEventListener('abort', stop);
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        latencies.sort((a, b) => a - b);
        const requests = latencies.length + requestErrors;
        const errors = status5xx + requestErrors;
        resolve({
          requests,
          errors,
          errorRate: requests > 0 ? errors / requests : 0,
          p50Ms: quantileOf(latencies, 0.5),
          p95Ms: quantileOf(latencies, 0.95),
          p99Ms: quantileOf(latencies, 0.99),
          achievedRate: result.duration > 0 ? requests / result.duration : 0,
          durationS: result.duration,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      if (statusCode >= 500) status5xx++;
    });
    instance.on('reqError', () => {
      requestErrors++;
    });
    const beating = setInterval(() => beat(latencies.length + requestErrors), 1000);
    const stop = (): void => instance.stop();
    signal.addEventListener('abort', stop, { once: true });
  });
}
