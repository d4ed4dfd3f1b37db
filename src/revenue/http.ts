/** Small HTTP helpers for checks against an environment (loopback in the local driver). */

/** One GET or POST with a timeout; never throws for an HTTP status, only for no answer. */
export async function request(
  url: string,
  init: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; body: string; latencyMs: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { body: init.body }),
    headers: init.headers ?? {},
    signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
  });
  const body = await response.text();
  return { status: response.status, body, latencyMs: performance.now() - started };
}

/** The `error.message` of an unknown failure, with its cause (fetch hides the real reason there). */
export function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
