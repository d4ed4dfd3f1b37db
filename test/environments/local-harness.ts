/** Helpers for the local environment tests: fixture artifacts, free ports, a load loop, cleanup. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { c as createTar } from 'tar';
import type { ReleaseSpec } from '../../src/environments/environment.js';
import type { ArtifactRef } from '../../src/types.js';

/** The plain-JS fixture app (package.json + dist/server.js), in the source tree. */
export const FIXTURE_DIR = fileURLToPath(new URL('../../../test/fixtures/env-app', import.meta.url));

/** A fresh temp dir for one test's Tollgate home. */
export function tempHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tg-env-'));
}

/** Removes a temp home. */
export function removeHome(home: string): Promise<void> {
  return rm(home, { recursive: true, force: true });
}

/** Packs the fixture app into `<home>/<name>.tar.gz` and describes it as a build artifact. */
export async function fixtureArtifact(home: string, name: string): Promise<ArtifactRef> {
  const path = join(home, `${name}.tar.gz`);
  await createTar({ gzip: true, file: path, cwd: FIXTURE_DIR, portable: true }, [
    'package.json',
    'dist/server.js',
  ]);
  const bytes = readFileSync(path);
  return {
    path,
    kind: 'tarball',
    sizeBytes: bytes.length,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
  };
}

/** A release spec of the fixture app; `env` adds fault switches. */
export function fixtureSpec(
  releaseId: string,
  artifact: ArtifactRef,
  env: Record<string, string> = {},
): ReleaseSpec {
  return {
    releaseId,
    app: 'env-app',
    ref: `ref-${releaseId}`,
    artifact,
    start: ['node', 'dist/server.js'],
    env: { RELEASE_ID: releaseId, ...env },
    secrets: { APP_SECRET: 'not-a-real-secret' },
    healthPath: '/healthz',
    readyPath: '/readyz',
  };
}

/** One GET's outcome: status and body, or the network error. */
export interface Hit {
  status: number | null;
  body: string;
  error?: string;
}

/** GET `url` with the given agent (false: a fresh connection). */
export function hit(url: string, agent: Agent | false = false, timeoutMs = 5000): Promise<Hit> {
  return new Promise((done) => {
    const req = get(url, { agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode ?? null, body }));
      res.on('error', (err) => done({ status: null, body, error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => done({ status: null, body: '', error: err.message }));
  });
}

/** The release id a fixture response names. */
export function releaseOf(h: Hit): string | null {
  try {
    return (JSON.parse(h.body) as { release?: string }).release ?? null;
  } catch {
    return null;
  }
}

/** What a load loop saw. */
export interface LoadResult {
  requests: number;
  failures: Hit[];
  byRelease: Record<string, number>;
}

/** `clients` concurrent request loops against `url` until `stop()` resolves. */
export async function loadLoop(
  url: string,
  clients: number,
  keepAlive: boolean,
  until: Promise<unknown>,
): Promise<LoadResult> {
  const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: clients }) : false;
  const result: LoadResult = { requests: 0, failures: [], byRelease: {} };
  let running = true;
  const stopped = until.finally(() => (running = false));
  const client = async (): Promise<void> => {
    while (running) {
      const h = await hit(url, agent);
      result.requests++;
      if (h.status !== 200) result.failures.push(h);
      const release = releaseOf(h) ?? 'none';
      result.byRelease[release] = (result.byRelease[release] ?? 0) + 1;
    }
  };
  await Promise.all([stopped, ...Array.from({ length: clients }, client)]);
  if (agent) agent.destroy();
  return result;
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
