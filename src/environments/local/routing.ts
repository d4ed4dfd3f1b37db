/**
 * Which release answers a request: the stable one, or a canary beside it at a weight. Sticky per
 * customer: a customer's key (a header or cookie the config names, else the client address) hashes
 * to a bucket in 0..9999, and buckets below weight × 100 go to the canary. The hash is salted with
 * the canary's release id, so while its weight rises (5 → 25 → 50 → 100 %) the canary's customers
 * stay on it and others join: one customer's session never straddles two releases at one weight,
 * and nobody moves back. The weight is read per request: a change takes effect at the next one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyTarget } from './proxy.js';

/** How the proxy splits traffic now. */
export interface Routing {
  /** The release that serves by default (null: nothing active, the proxy answers 503). */
  stable: ProxyTarget | null;
  /** A release in its canary window, with its share of customers in percent (0–100). */
  canary?: { target: ProxyTarget; weight: number };
  /** What identifies a customer: a request header (e.g. `x-customer-id`) or a cookie name. */
  sticky?: { header?: string; cookie?: string };
  /** During a canary: where customers check out (POST), counted per release. */
  checkoutPath?: string;
}

/** Buckets per rollout: weights are honoured to a hundredth of a percent. */
export const BUCKETS = 10_000;

/** FNV-1a (32 bit) of `salt` NUL `key`, as a bucket in 0..BUCKETS-1: fast, stable across processes and versions. */
export function bucketOf(key: string, salt: string): number {
  let hash = 0x811c9dc5;
  const text = `${salt}\0${key}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % BUCKETS;
}

/**
 * Marks a canary's synthetic request (src/activities/probes.ts); its value is the probe's own
 * customer key, so probes spread over the releases by weight as customers do, and the proxy counts
 * them apart. Honoured from loopback only: a customer elsewhere cannot choose a release with it.
 */
export const PROBE_HEADER = 'x-tollgate-probe';

/** The probe's customer key, when the request is a probe from loopback. */
export function probeKeyOf(
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
): string | undefined {
  const value = headers[PROBE_HEADER];
  const key = Array.isArray(value) ? value[0] : value;
  const loopback =
    remoteAddress === '127.0.0.1' || remoteAddress === '::1' || remoteAddress === '::ffff:127.0.0.1';
  return key && loopback ? key : undefined;
}

/** The customer's key: a probe's own, else the sticky header, else the sticky cookie, else the client's address. */
export function customerKeyOf(
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
  sticky: Routing['sticky'],
): string {
  const probe = probeKeyOf(headers, remoteAddress);
  if (probe) return `p:${probe}`;
  if (sticky?.header) {
    const value = headers[sticky.header.toLowerCase()];
    const first = Array.isArray(value) ? value[0] : value;
    if (first) return `h:${first}`;
  }
  if (sticky?.cookie && headers.cookie) {
    for (const part of headers.cookie.split(';')) {
      const at = part.indexOf('=');
      if (at > 0 && part.slice(0, at).trim() === sticky.cookie) return `c:${part.slice(at + 1).trim()}`;
    }
  }
  return `a:${remoteAddress ?? ''}`;
}

/** The release for a customer under `routing`. */
export function route(routing: Routing, customerKey: string): ProxyTarget | null {
  const { canary } = routing;
  if (canary && canary.weight > 0) {
    if (canary.weight >= 100) return canary.target;
    if (bucketOf(customerKey, canary.target.releaseId) < Math.round(canary.weight * (BUCKETS / 100)))
      return canary.target;
  }
  return routing.stable;
}
