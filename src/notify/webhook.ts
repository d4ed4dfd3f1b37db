/**
 * POSTs JSON to a webhook and classifies the answer for the activity's retry policy: 2xx is
 * delivered; 408, 429, 5xx, a network error or no answer in time is worth retrying; any other
 * answer means a misconfigured hook, which no retry fixes. The URL is a secret: errors name the
 * env var that holds it, never the URL (nor the network error's text, which can carry the host).
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../failures.js';

/** Failure type of a delivery worth retrying (the receiver is down, slow or rate limiting). */
export const WEBHOOK_UNAVAILABLE = FailureType.WebhookUnavailable;
/** Failure type of an answer no retry fixes (404, 401, a redirect): the hook is misconfigured. */
export const WEBHOOK_REJECTED = FailureType.WebhookRejected;

/** How long one POST may take; below the notify activity's start-to-close timeout. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** A Retry-After longer than this is cut to it: the retry policy keeps the last word. */
const RETRY_AFTER_MAX_MS = 60_000;
const SNIPPET_CHARS = 200;

/** Where to POST: the URL (a secret) and the name of the env var it came from (safe to show). */
export interface WebhookTarget {
  url: string;
  secretName: string;
}

/** POSTs `body` as JSON; resolves with the status on 2xx, otherwise throws a classified ApplicationFailure. */
export async function postWebhook(
  target: WebhookTarget,
  body: unknown,
  options: { timeoutMs?: number } = {},
): Promise<{ status: number }> {
  const where = `webhook (secret ${target.secretName})`;
  const url = webhookUrl(target);
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      // A webhook that redirects is misconfigured; following it could also replay the POST elsewhere.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw ApplicationFailure.create({
      type: WEBHOOK_UNAVAILABLE,
      message: `${where} could not be reached (${networkReason(error, timeoutMs)}); the activity retries`,
    });
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    // Delivered: the answer's body does not matter, and a failure reading it must not cause a resend.
    await response.body?.cancel().catch(() => undefined);
    return { status };
  }
  const said = redact(await response.text().catch(() => ''), url)
    .trim()
    .slice(0, SNIPPET_CHARS);
  const answered = `${where} answered ${status}${said ? `: ${said}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    const nextRetryDelay = retryAfterMs(response.headers.get('retry-after'));
    throw ApplicationFailure.create({
      type: WEBHOOK_UNAVAILABLE,
      message: `${answered}; the activity retries`,
      ...(nextRetryDelay === undefined ? {} : { nextRetryDelay }),
    });
  }
  const fix =
    status >= 300 && status < 400
      ? `redirects are not followed: set ${target.secretName} to the webhook's final URL`
      : `check that ${target.secretName} holds the webhook's current URL and that the hook is still enabled`;
  throw ApplicationFailure.create({
    type: WEBHOOK_REJECTED,
    message: `${answered}: ${fix}`,
    nonRetryable: true,
  });
}

/** The secret's value as an http(s) URL; anything else is a non-retryable InvalidConfig that names the secret only. */
export function webhookUrl(target: WebhookTarget): URL {
  let url: URL | undefined;
  try {
    url = new URL(target.url.trim());
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message: `webhook (secret ${target.secretName}) is not an http(s) URL: set ${target.secretName} to the webhook's URL, e.g. https://hooks.slack.com/services/...`,
      nonRetryable: true,
    });
  }
  return url;
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date), capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  // Zero would mean "retry immediately", which the policy's interval handles better.
  return Math.min(Math.max(ms, 1000), RETRY_AFTER_MAX_MS);
}

/** A network error's code (ECONNREFUSED, ENOTFOUND) or a timeout; never its message, which may name the host. */
function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  const code =
    cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  return code ?? (error instanceof Error ? error.name : 'unknown error');
}

/** Receivers sometimes echo the request; the URL must not reach a log through them. */
function redact(text: string, url: URL): string {
  let out = text.replaceAll(url.href, '[webhook URL]');
  if (url.pathname.length > 1) out = out.replaceAll(url.pathname, '[webhook path]');
  return out;
}
