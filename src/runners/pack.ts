/**
 * Lean packing of a release: the production file set read from package-lock.json instead of an
 * npm run on a copy, and a reproducible tarball streamed from GNU tar through gzip to its file.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, type Dirent } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { isAbsolute, join, posix, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/**
 * gzip level of the release tarball. Not zlib's default 6: deflate is most of a pack's time, and on
 * the sample app (70 MB of production files, 2 cores) a pack takes ~1.9 s at level 6, ~1.4 s at 4
 * and ~1.0 s at 2, for a tarball 12% larger than at 6 (18.3 MB, not 16.3 MB).
 */
export const GZIP_LEVEL = 2;

/** One entry of package-lock.json's `packages` map (lockfileVersion 2 and 3). */
interface LockedPackage {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  workspaces?: unknown;
}

type LockedPackages = Record<string, LockedPackage | undefined>;

/** The files a lockfile pack ships, and what it counted on the way. */
export interface ProductionFileSet {
  /** `./`-prefixed paths relative to the source dir, directories included, in byte order. */
  entries: string[];
  /** Entries that are not directories (files and symlinks). */
  files: number;
  /** Package folders kept (nested ones included). */
  productionPackages: number;
  /** Folders of dev-only packages left out (what is nested in them not counted again). */
  devPackages: number;
  /** Folders in node_modules that the lockfile does not list, left out as `npm prune` removes them. */
  extraneous: number;
}

/** How to pack: from the lockfile, or a copy that the artifact's install command prunes. */
export type PackPlan = { kind: 'lockfile'; fileSet: ProductionFileSet } | { kind: 'copy'; reason: string };

/** Flags of npm prune / npm ci that do not change which packages stay. */
const QUIET_INSTALL_FLAGS = new Set(['--no-audit', '--no-fund', '--ignore-scripts']);

/** True for `npm prune|ci --omit=dev` (or `--omit dev`) with no flag but --no-audit, --no-fund, --ignore-scripts. */
export function isProductionInstall(argv: readonly string[]): boolean {
  const [command, subcommand, ...flags] = argv;
  if (command !== 'npm' || (subcommand !== 'prune' && subcommand !== 'ci')) return false;
  let omitsDev = false;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (flag === '--omit=dev') omitsDev = true;
    else if (flag === '--omit' && flags[i + 1] === 'dev') {
      omitsDev = true;
      i++;
    } else if (!QUIET_INSTALL_FLAGS.has(flag)) return false;
  }
  return omitsDev;
}

/** Flags of npm sbom, each with a value, that leave it reading the lockfile only. */
const SBOM_VALUE_FLAGS = new Set(['--omit', '--sbom-format', '--sbom-type']);

/**
 * True for `npm sbom --package-lock-only` with only --omit, --sbom-format and --sbom-type besides:
 * it reads nothing but the lockfile, which the copy shares with the source dir, so it may run there.
 */
export function isLockfileSbom(argv: readonly string[]): boolean {
  const [command, subcommand, ...flags] = argv;
  if (command !== 'npm' || subcommand !== 'sbom') return false;
  let lockfileOnly = false;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (flag === '--package-lock-only') {
      lockfileOnly = true;
      continue;
    }
    const [name, value] = flag.split('=', 2);
    if (!SBOM_VALUE_FLAGS.has(name!)) return false;
    // `--omit dev`: the value is the next word.
    if (value === undefined && flags[++i] === undefined) return false;
  }
  return lockfileOnly;
}

/** Decides how to pack `include` from `sourceDir`; for a lockfile pack, lists its files too. */
export async function planPack(
  sourceDir: string,
  artifact: { include: readonly string[]; install: readonly string[]; sbom: readonly string[] },
): Promise<PackPlan> {
  const copy = (reason: string): PackPlan => ({ kind: 'copy', reason });
  if (!isProductionInstall(artifact.install)) return copy('not an npm production install');
  if (!isLockfileSbom(artifact.sbom)) return copy('the sbom command does not read the lockfile only');
  const include = [...new Set(artifact.include.map(includePath))];
  if (include.some((path) => path === '..' || path.startsWith('../') || isAbsolute(path)))
    return copy('an include path lies outside the source dir');
  if (include.some((path) => path.startsWith('node_modules/')))
    return copy('an include path lies inside node_modules');
  const modules = include.includes('node_modules')
    ? await lstat(join(sourceDir, 'node_modules')).catch(() => undefined)
    : undefined;
  if (!modules?.isDirectory()) return copy('node_modules is not an include path and a directory');
  const packages = await readLockedPackages(sourceDir);
  if (typeof packages === 'string') return copy(packages);
  return new LockfileWalk(sourceDir, packages).run(include).catch((error: unknown) => {
    if (error instanceof LockfileMismatch) return copy(error.message);
    throw error;
  });
}

/** The `packages` map of a v2/v3 package-lock.json, or why there is none to use. */
async function readLockedPackages(sourceDir: string): Promise<LockedPackages | string> {
  const text = await readFile(join(sourceDir, 'package-lock.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return 'no package-lock.json';
  let lock: { lockfileVersion?: unknown; packages?: unknown };
  try {
    lock = JSON.parse(text) as typeof lock;
  } catch {
    return 'package-lock.json is not JSON';
  }
  const { lockfileVersion, packages } = lock;
  if ((lockfileVersion !== 2 && lockfileVersion !== 3) || typeof packages !== 'object' || packages === null)
    return `package-lock.json has lockfileVersion ${String(lockfileVersion)}, not 2 or 3 with a packages map`;
  // A workspace root prunes each workspace's tree too: npm knows how, this file does not.
  if ((packages as LockedPackages)['']?.workspaces !== undefined) return 'package-lock.json has workspaces';
  return packages as LockedPackages;
}

/** The node_modules tree does not match the lockfile: npm itself has to reconcile them. */
class LockfileMismatch extends Error {}

/** An include path as the lockfile keys spell paths: relative, `/`-separated, no `./` or trailing `/`. */
function includePath(path: string): string {
  return posix
    .normalize(path.replaceAll('\\', '/'))
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
}

/** The lockfile key of the package folder that holds `path` (`node_modules/a/node_modules/@s/b`), if any. */
function packageKeyOf(path: string): string | undefined {
  const parts = path.split('/');
  let key: string | undefined;
  for (let i = 0; parts[i] === 'node_modules' && i + 1 < parts.length;) {
    const width = parts[i + 1]!.startsWith('@') ? 2 : 1;
    if (i + 1 + width > parts.length) break;
    i += 1 + width;
    key = parts.slice(0, i).join('/');
  }
  return key;
}

/** What a directory is to npm, which says what its children are. */
type Place = 'plain' | 'package' | 'modules' | 'scope' | 'bin';

/** One walk of the include paths that keeps what `npm prune --omit=dev` would leave. */
class LockfileWalk {
  private readonly entries = new Set<string>();
  private readonly seen = new Set<string>();
  private readonly counts = { files: 0, productionPackages: 0, devPackages: 0, extraneous: 0 };

  constructor(
    private readonly sourceDir: string,
    private readonly packages: LockedPackages,
  ) {}

  async run(include: string[]): Promise<PackPlan> {
    this.entries.add('.');
    await Promise.all(
      include.map(async (path) => {
        for (let parent = posix.dirname(path); parent !== '.'; parent = posix.dirname(parent))
          this.entries.add(`./${parent}`);
        const stats = await lstat(join(this.sourceDir, path));
        this.add(path, stats.isDirectory());
        if (stats.isDirectory()) await this.walk(path, path === 'node_modules' ? 'modules' : 'plain');
      }),
    );
    this.checkNothingMissing();
    return { kind: 'lockfile', fileSet: { entries: sortedPaths(this.entries), ...this.counts } };
  }

  /** Kept by `--omit=dev`: listed, not dev-only, and inside a kept package if nested. */
  private kept(key: string): boolean {
    const locked = this.packages[key];
    if (!locked || locked.dev === true) return false;
    const nestedAt = key.lastIndexOf('/node_modules/');
    return nestedAt < 0 || this.kept(key.slice(0, nestedAt));
  }

  private add(path: string, isDirectory: boolean): void {
    const entry = `./${path}`;
    if (this.entries.has(entry)) return;
    this.entries.add(entry);
    if (!isDirectory) this.counts.files++;
  }

  private async walk(dir: string, place: Place): Promise<void> {
    const children = await readdir(join(this.sourceDir, dir), { withFileTypes: true });
    await Promise.all(children.map((child) => this.visit(`${dir}/${child.name}`, child, place)));
  }

  private async visit(path: string, child: Dirent, parent: Place): Promise<void> {
    const { name } = child;
    const isDirectory = child.isDirectory();
    if (parent === 'bin' && child.isSymbolicLink()) {
      if (await this.binTargetKept(path)) this.add(path, false);
      return;
    }
    if (parent === 'modules' || parent === 'scope') {
      // npm's hidden lockfile would still list the dev packages: npm rebuilds it from the tree.
      if (path === 'node_modules/.package-lock.json') return;
      if (parent === 'modules' && name === '.bin' && isDirectory) return this.descend(path, 'bin');
      if (parent === 'modules' && name.startsWith('@') && isDirectory) return this.descend(path, 'scope');
      if (!name.startsWith('.') && (isDirectory || child.isSymbolicLink()))
        return this.visitPackage(path, child);
    }
    if (isDirectory) {
      const place = parent === 'package' && name === 'node_modules' ? 'modules' : 'plain';
      return this.descend(path, place);
    }
    this.add(path, false);
  }

  private async descend(path: string, place: Place): Promise<void> {
    this.add(path, true);
    await this.walk(path, place);
  }

  private async visitPackage(key: string, child: Dirent): Promise<void> {
    const locked = this.packages[key];
    if (!locked) {
      this.counts.extraneous++;
      return;
    }
    if (locked.dev === true) {
      this.counts.devPackages++;
      return;
    }
    this.seen.add(key);
    this.counts.productionPackages++;
    // A linked package stays the link it is, verbatim.
    if (!child.isDirectory()) return this.add(key, false);
    if (locked.version !== undefined) {
      const version = await readFile(join(this.sourceDir, key, 'package.json'), 'utf8')
        .then((text) => (JSON.parse(text) as { version?: unknown }).version)
        .catch(() => undefined);
      if (version !== locked.version) {
        const found = typeof version === 'string' ? version : 'without a readable version';
        throw new LockfileMismatch(`${key} is ${found} on disk, ${locked.version} in the lockfile`);
      }
    }
    await this.descend(key, 'package');
  }

  /** A .bin link stays when what it points at lies in a kept package. */
  private async binTargetKept(path: string): Promise<boolean> {
    const target = await readlink(join(this.sourceDir, path));
    const resolved = isAbsolute(target)
      ? relative(this.sourceDir, target).split('\\').join('/')
      : posix.normalize(posix.join(posix.dirname(path), target));
    const key = packageKeyOf(resolved);
    return key !== undefined && this.kept(key);
  }

  /** A production package the lockfile lists but node_modules lacks: npm would install it. */
  private checkNothingMissing(): void {
    for (const [key, locked] of Object.entries(this.packages)) {
      if (!key.startsWith('node_modules/') || !locked || this.seen.has(key)) continue;
      if (locked.optional === true || locked.devOptional === true || !this.kept(key)) continue;
      throw new LockfileMismatch(`${key} is in the lockfile but not in node_modules`);
    }
  }
}

/** Every path under `dir` (and `.` for it), `./`-prefixed, in byte order: packDirectory's file list. */
export async function listTree(dir: string): Promise<string[]> {
  const paths = ['.'];
  const walk = async (relativeDir: string): Promise<void> => {
    const children = await readdir(join(dir, relativeDir), { withFileTypes: true });
    await Promise.all(
      children.map(async (child) => {
        const path = relativeDir ? `${relativeDir}/${child.name}` : child.name;
        paths.push(`./${path}`);
        if (child.isDirectory()) await walk(path);
      }),
    );
  };
  await walk('');
  return sortedPaths(paths);
}

/** Byte order of the UTF-8 names: independent of readdir order and of JavaScript's UTF-16 order. */
function sortedPaths(paths: Iterable<string>): string[] {
  return [...paths]
    .map((path) => Buffer.from(path))
    .sort((a, b) => Buffer.compare(a, b))
    .map((path) => path.toString());
}

/** Where writeTarball reads from and writes to. */
export interface TarballOptions {
  /** The directory the entries are relative to. */
  cwd: string;
  /** The entries in archive order (directories are entries too; nothing is recursed into). */
  entries: readonly string[];
  /** The .tgz to write. */
  target: string;
  signal?: AbortSignal;
}

/**
 * Writes `entries` of `cwd` as a gzipped tarball, reproducibly: the order given, fixed times and
 * owners, hard links stored as files; modes come from the files. The sha256 is taken on the way out.
 */
export async function writeTarball(options: TarballOptions): Promise<{ digest: string; sizeBytes: number }> {
  const { cwd, entries, target, signal } = options;
  const tar = spawn(
    'tar',
    [
      '--create',
      '--file=-',
      '--format=gnu',
      '--directory',
      cwd,
      '--null',
      '--verbatim-files-from',
      '--no-recursion',
      '--files-from=-',
      '--hard-dereference',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) },
  );
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', resolve);
  });
  // tar may exit before reading it all (a bad entry): its exit code tells, not the broken pipe.
  tar.stdin.on('error', () => undefined);
  tar.stdin.end(entries.map((entry) => `${entry}\0`).join(''));

  const hash = createHash('sha256');
  let sizeBytes = 0;
  const [code] = await Promise.all([
    exited,
    pipeline(
      tar.stdout,
      createGzip({ level: GZIP_LEVEL }),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          sizeBytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(target),
    ),
  ]);
  if (code !== 0) throw new Error(`tar exited with ${code}: ${stderr.trim()}`);
  return { digest: `sha256:${hash.digest('hex')}`, sizeBytes };
}
