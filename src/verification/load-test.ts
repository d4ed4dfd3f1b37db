/**
 * A load test's plan, report and verdict (the runner is src/activities/load-test.ts). Pure: the
 * workflow renders the report with it.
 */

/** What a load test runs and what it must stay within (`loadTest:` on an environment). */
export interface LoadTestPlan {
  ratePerSecond: number;
  durationMs: number;
  connections: number;
  routes: string[];
  maxP95LatencyMs: number;
  maxErrorRate: number;
}

/** What a load test measured. */
export interface LoadTestReport {
  requests: number;
  /** 5xx answers, plus requests that errored or timed out. */
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Requests per second actually achieved. */
  achievedRate: number;
  durationS: number;
}

/** The limits a report breaks, in words; empty when it passed. */
export function loadTestBreaches(report: LoadTestReport, plan: LoadTestPlan): string[] {
  const breaches: string[] = [];
  if (report.requests === 0) breaches.push('no request was answered');
  if (report.p95Ms !== null && report.p95Ms > plan.maxP95LatencyMs)
    breaches.push(`p95 ${Math.round(report.p95Ms)} ms is above ${plan.maxP95LatencyMs} ms`);
  if (report.errorRate > plan.maxErrorRate)
    breaches.push(
      `error rate ${(report.errorRate * 100).toFixed(2)} % is above ${(plan.maxErrorRate * 100).toFixed(2)} %`,
    );
  return breaches;
}

/** One line for the status: what ran and what came out. */
export function describeLoadTest(report: LoadTestReport, plan: LoadTestPlan): string {
  const p = (v: number | null): string => (v === null ? '–' : `${Math.round(v)} ms`);
  return `${report.requests} requests at ${report.achievedRate.toFixed(0)}/s (asked ${plan.ratePerSecond}/s) for ${report.durationS.toFixed(0)} s: p50 ${p(report.p50Ms)}, p95 ${p(report.p95Ms)} (limit ${plan.maxP95LatencyMs} ms), p99 ${p(report.p99Ms)}, errors ${(report.errorRate * 100).toFixed(2)} % (limit ${(plan.maxErrorRate * 100).toFixed(2)} %)`;
}
