/**
 * The stage result cache: a command stage that passed is not run again while nothing its result
 * depends on has changed. The key is a digest of the commit's tree (a dirty snapshot is a commit of
 * its own, so its tree too), the stage's plan (steps, env, secret NAMES, services, coverage gate,
 * artifact), the runner kind and what the runner runs it with (the host's toolchain binaries, the
 * images' digests). Only passes are stored, never failures; delivery steps (deploy, smoke test,
 * verification, gates) are not command stages and never reach this file.
 *
 * Layout under `<home>/stage-cache/`: `entries/<key>.json` (the result, the run it came from, the
 * blobs it needs) and `blobs/<sha256>` (the log, the artifact, its SBOM, the OCI image), content
 * addressed, so workers sharing a home share the cache and concurrent writers never clash. Files
 * appear whole (written beside, then renamed); the total is bounded and pruned least recently used first.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { fileDigest } from '../environments/local/unpack.js';
import type { ArtifactRef, CachedFrom, CommandPlan, StageResult } from '../types.js';
import type { StageOutput } from './output.js';

/** Bumped when the key's recipe or the entry's shape changes: older entries then simply miss. */
export const STAGE_CACHE_VERSION = 1;

/** The default bound of the cache's size on disk (TOLLGATE_STAGE_CACHE_MAX_BYTES). */
export const DEFAULT_STAGE_CACHE_MAX_BYTES = 2 * 1024 ** 3;

/** Blobs no entry names yet are left alone this long: another worker may be storing their entry. */
const FRESH_BLOB_MS = 10 * 60_000;

/** What a stage's key is made of. */
export interface StageKeyInput {
  plan: CommandPlan;
  /** The tree hash of the run's checkout. */
  tree: string;
  runner: 'host' | 'dagger';
  /** What the runner runs the plan with: toolchain binaries (host), image digests (Dagger). */
  identity: Record<string, string>;
}

/**
 * The key: sha256 over a canonical JSON of everything the result depends on. Left out on purpose:
 * the retry policy and timeout (they decide whether a stage passes in time, not what it produces),
 * `needs` (its place in the graph) and the secrets' values (the key holds names only; see cacheResult).
 */
export function stageCacheKey({ plan, tree, runner, identity }: StageKeyInput): string {
  const material = {
    version: STAGE_CACHE_VERSION,
    tree,
    runner,
    identity,
    stage: {
      name: plan.name,
      image: plan.image,
      steps: plan.steps,
      env: plan.env,
      secrets: [...plan.secrets].sort(),
      coverageMinimum: plan.coverageMinimum ?? null,
      artifact: plan.artifact ?? null,
      services: plan.services ?? [],
    },
  };
  return createHash('sha256').update(canonicalJson(material)).digest('hex');
}

/** JSON with object keys sorted at every level, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** One stored result. */
interface Entry {
  version: typeof STAGE_CACHE_VERSION;
  key: string;
  stage: string;
  from: Omit<CachedFrom, 'key'>;
  result: Pick<StageResult, 'name' | 'runner' | 'exitCode' | 'summary'>;
  /** The full log of the run that passed. */
  log: string;
  artifact?: {
    ref: Omit<ArtifactRef, 'path' | 'sbomPath' | 'image'> & {
      image?: Omit<NonNullable<ArtifactRef['image']>, 'path'>;
    };
    /** Blob and file name of each file: the tarball, the SBOM, the OCI image. */
    files: { role: 'tarball' | 'sbom' | 'image'; blob: string; name: string }[];
  };
}

/** A result found in the cache, with the files it needs linked into the new run's directory. */
export interface CacheHit {
  from: CachedFrom;
  result: Entry['result'];
  /** The log of the run that produced the result. */
  log: string;
  artifact?: ArtifactRef;
}

/** The run a stored result comes from. */
export interface CacheOrigin {
  workflowId: string;
  runId: string;
}

/** The cache under one directory. */
export class StageCache {
  constructor(
    readonly dir: string,
    readonly maxBytes: number = DEFAULT_STAGE_CACHE_MAX_BYTES,
  ) {}

  /** `<home>/stage-cache`. */
  static under(home: string, maxBytes?: number): StageCache {
    return new StageCache(join(home, 'stage-cache'), maxBytes);
  }

  /**
   * The stored result for `key`, with its files linked into `runDir` (the artifact is checked
   * against its digest first); undefined on a miss, or when a file it needs has gone.
   */
  async lookup(key: string, runDir: string): Promise<CacheHit | undefined> {
    const entry = this.readEntry(key);
    if (!entry) return undefined;
    const blobs = [entry.log, ...(entry.artifact?.files.map((f) => f.blob) ?? [])];
    if (!blobs.every((blob) => existsSync(this.blobPath(blob)))) return undefined;
    let artifact: ArtifactRef | undefined;
    if (entry.artifact) {
      const tarball = entry.artifact.files.find((f) => f.role === 'tarball');
      // The artifact goes to production: a blob that no longer hashes to its name is never served.
      if (!tarball || (await fileDigest(this.blobPath(tarball.blob))) !== entry.artifact.ref.digest) {
        return undefined;
      }
      mkdirSync(runDir, { recursive: true });
      const placed = new Map<string, string>();
      for (const file of entry.artifact.files) {
        const target = join(runDir, file.name);
        placeFile(this.blobPath(file.blob), target);
        placed.set(file.role, target);
      }
      const { image, ...ref } = entry.artifact.ref;
      artifact = {
        ...ref,
        path: placed.get('tarball')!,
        ...(placed.has('sbom') ? { sbomPath: placed.get('sbom')! } : {}),
        ...(image && placed.has('image') ? { image: { ...image, path: placed.get('image')! } } : {}),
      };
    }
    const now = new Date();
    for (const path of [this.entryPath(key), ...blobs.map((b) => this.blobPath(b))]) touch(path, now);
    return {
      from: { key, ...entry.from },
      result: entry.result,
      log: readFileSync(this.blobPath(entry.log), 'utf8'),
      ...(artifact ? { artifact } : {}),
    };
  }

  /** Stores a passed result under `key` (its log and artifact files as blobs), then prunes to the bound. */
  async store(key: string, result: StageResult, origin: CacheOrigin): Promise<void> {
    if (result.cached) return; // already in the cache: nothing new to store
    const log = await this.putBlob(result.logPath, undefined, 'copy');
    let artifact: Entry['artifact'];
    if (result.artifact) {
      const { path, sbomPath, image, ...ref } = result.artifact;
      const files: NonNullable<Entry['artifact']>['files'] = [
        { role: 'tarball', blob: await this.putBlob(path, result.artifact.digest), name: basename(path) },
      ];
      if (sbomPath && existsSync(sbomPath))
        files.push({ role: 'sbom', blob: await this.putBlob(sbomPath), name: basename(sbomPath) });
      if (image && existsSync(image.path))
        files.push({ role: 'image', blob: await this.putBlob(image.path), name: basename(image.path) });
      artifact = { ref: { ...ref, ...(image ? { image: withoutPath(image) } : {}) }, files };
    }
    const entry: Entry = {
      version: STAGE_CACHE_VERSION,
      key,
      stage: result.name,
      from: { ...origin, at: result.endedAt, durationMs: result.durationMs },
      result: {
        name: result.name,
        runner: result.runner,
        exitCode: result.exitCode,
        summary: result.summary,
      },
      log,
      ...(artifact ? { artifact } : {}),
    };
    writeWhole(this.entryPath(key), `${JSON.stringify(entry, null, 2)}\n`);
    this.prune();
  }

  /** Removes entries least recently used first until the cache fits its bound, then blobs no entry needs. */
  prune(): { entries: number; bytes: number } {
    const blobSize = new Map<string, number>();
    const young = new Set<string>();
    for (const name of this.list('blobs')) {
      if (name.includes('.partial-')) continue;
      const stat = statSync(this.blobPath(name));
      blobSize.set(name, stat.size);
      if (Date.now() - stat.mtimeMs < FRESH_BLOB_MS) young.add(name);
    }
    const entries = this.entries().map((e) => ({ ...e, blobs: this.blobsOf(e.key) }));
    const users = new Map<string, number>();
    for (const entry of entries) for (const blob of entry.blobs) users.set(blob, (users.get(blob) ?? 0) + 1);
    // Blobs no entry needs (left by a writer that died, or by entries removed earlier) go first.
    for (const [blob] of blobSize) {
      // A young one may belong to an entry another worker is about to write.
      if (!users.has(blob) && !young.has(blob)) {
        rmSync(this.blobPath(blob), { force: true });
        blobSize.delete(blob);
      }
    }
    let total = [...blobSize.values()].reduce((a, b) => a + b, 0) + entries.reduce((a, e) => a + e.size, 0);
    let removed = 0;
    for (const entry of entries.sort((a, b) => a.used - b.used)) {
      if (total <= this.maxBytes) break;
      rmSync(entry.path, { force: true });
      total -= entry.size;
      removed += 1;
      for (const blob of entry.blobs) {
        const left = (users.get(blob) ?? 1) - 1;
        users.set(blob, left);
        if (left === 0 && blobSize.has(blob)) {
          rmSync(this.blobPath(blob), { force: true });
          total -= blobSize.get(blob)!;
          blobSize.delete(blob);
        }
      }
    }
    return { entries: removed, bytes: total };
  }

  /** The blobs an entry needs (none when it cannot be read). */
  private blobsOf(key: string): string[] {
    const entry = this.readEntry(key);
    return entry ? [entry.log, ...(entry.artifact?.files.map((f) => f.blob) ?? [])] : [];
  }

  private entries(): { key: string; path: string; size: number; used: number }[] {
    return this.list('entries')
      .filter((name) => name.endsWith('.json'))
      .map((name) => {
        const path = join(this.dir, 'entries', name);
        const stat = statSync(path);
        return { key: name.slice(0, -'.json'.length), path, size: stat.size, used: stat.mtimeMs };
      });
  }

  private list(folder: string): string[] {
    const dir = join(this.dir, folder);
    return existsSync(dir) ? readdirSync(dir) : [];
  }

  private readEntry(key: string): Entry | undefined {
    try {
      const entry = JSON.parse(readFileSync(this.entryPath(key), 'utf8')) as Entry;
      return entry.version === STAGE_CACHE_VERSION && entry.key === key ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Adds a file to the blobs, hard-linked where it can be (artifacts: written once, never changed),
   * or copied (`copy`: a log, which a later attempt of the same run could append to); returns its sha256 hex.
   */
  private async putBlob(path: string, digest?: string, how: 'link' | 'copy' = 'link'): Promise<string> {
    const hex = (digest?.startsWith('sha256:') ? digest : await fileDigest(path)).slice('sha256:'.length);
    const target = this.blobPath(hex);
    if (existsSync(target)) return hex;
    mkdirSync(join(this.dir, 'blobs'), { recursive: true });
    const draft = `${target}.partial-${randomUUID().slice(0, 8)}`;
    try {
      if (how === 'copy') copyFileSync(path, draft);
      else placeFile(path, draft);
      renameSync(draft, target);
    } finally {
      rmSync(draft, { force: true });
    }
    return hex;
  }

  private entryPath(key: string): string {
    return join(this.dir, 'entries', `${key}.json`);
  }

  private blobPath(hex: string): string {
    return join(this.dir, 'blobs', hex);
  }
}

/**
 * The result a runner returns for a hit: the stored one, marked as cached, with this attempt's
 * times and a log that says where it came from and holds the log of the run that produced it.
 */
export async function servedFromCache(
  hit: CacheHit,
  output: StageOutput,
  attempt: number,
  started: Date,
): Promise<StageResult> {
  const { from } = hit;
  output.note(
    `[tollgate] served from the stage result cache (key ${from.key.slice(0, 16)}): it passed in run ${from.workflowId}/${from.runId} at ${from.at} in ${(from.durationMs / 1000).toFixed(1)}s, and nothing it depends on has changed; nothing ran`,
  );
  output.note('[tollgate] the log of that run follows');
  output.write(hit.log.endsWith('\n') || hit.log === '' ? hit.log : `${hit.log}\n`);
  const logTail = output.tail();
  await output.close();
  const endedAt = new Date();
  return {
    ...hit.result,
    attempt,
    startedAt: started.toISOString(),
    endedAt: endedAt.toISOString(),
    durationMs: endedAt.getTime() - started.getTime(),
    summary: `cached: ${hit.result.summary} (from ${from.workflowId})`,
    logTail,
    logPath: output.logPath,
    cached: from,
    ...(hit.artifact ? { artifact: hit.artifact } : {}),
  };
}

/** The image's reference without its file, which each run has a path of its own for. */
function withoutPath<T extends { path: string }>({ path: _path, ...rest }: T): Omit<T, 'path'> {
  return rest;
}

/** Hard-links `from` at `to` (same file system), else copies it; replaces what `to` held. */
function placeFile(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

function writeWhole(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const draft = `${path}.partial-${randomUUID().slice(0, 8)}`;
  writeFileSync(draft, text);
  renameSync(draft, path);
}

function touch(path: string, at: Date): void {
  try {
    utimesSync(path, at, at);
  } catch {
    // pruned meanwhile: the next lookup misses
  }
}
