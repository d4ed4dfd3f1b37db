/**
 * An external signal for canary verdicts: one Prometheus instant query (`GET /api/v1/query`), read
 * by the canary activity. A backend that is down, slow or answers nonsense gives `unavailable` with
 * why, never a number: the verdict then says "evidence unavailable" and the window waits, up to its
 * limit, instead of failing a release for its monitoring's sake. It does I/O, so it lives with the activities.
 */
import { reason, request } from '../revenue/http.js';
import type { ExternalSignalPlan } from '../types.js';
import type { ExternalReading } from '../verification/readings.js';

/** How long one query may take before the signal counts as unavailable this interval. */
const QUERY_TIMEOUT_MS = 3000;

/** Reads `signal` for the canary `releaseId` (`$release` in the query names it). */
export async function readPrometheus(
  signal: ExternalSignalPlan,
  releaseId: string,
): Promise<ExternalReading> {
  const query = signal.query.split('$release').join(releaseId);
  const url = `${signal.url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  const unavailable = (why: string): ExternalReading => ({ name: signal.name, unavailable: why });
  let answer: { status: number; body: string };
  try {
    answer = await request(url, { timeoutMs: QUERY_TIMEOUT_MS });
  } catch (error) {
    return unavailable(`Prometheus at ${signal.url} did not answer: ${reason(error)}`);
  }
  if (answer.status !== 200) return unavailable(`Prometheus answered HTTP ${answer.status}`);
  const value = valueOf(answer.body);
  return typeof value === 'number'
    ? { name: signal.name, value }
    : unavailable(`the query gave no single number (${value})`);
}

/** The one number of an instant query's answer, or why there is none. */
function valueOf(body: string): number | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'the answer is not JSON';
  }
  const data = (parsed as { status?: string; data?: { resultType?: string; result?: unknown } }).data;
  if ((parsed as { status?: string }).status !== 'success' || !data) return 'the query failed';
  // A scalar is [time, "value"]; a vector is [{ value: [time, "value"] }, ...].
  const sample =
    data.resultType === 'scalar'
      ? (data.result as unknown[])
      : data.resultType === 'vector' && Array.isArray(data.result)
        ? data.result.length === 1
          ? (data.result[0] as { value?: unknown[] }).value
          : undefined
        : undefined;
  if (!Array.isArray(sample)) {
    return data.resultType === 'vector' ? `${(data.result as unknown[]).length} series` : 'no value';
  }
  const value = Number(sample[1]);
  return Number.isFinite(value) ? value : `the value ${String(sample[1])}`;
}
