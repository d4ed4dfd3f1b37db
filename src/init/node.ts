/** The pipeline of a Node project, read from package.json and its lockfile. */
import type { ProjectFiles } from './files.js';
import {
  NODE_SCRIPTS,
  todoCommand,
  type Argv,
  type Artifact,
  type Check,
  type NodeFacts,
  type NodeScript,
  type PackageManager,
  type StartCommand,
  type Toolchain,
} from './project.js';

/** Each package manager's lockfile, in the order init prefers them when a project has several. */
const LOCKFILES: Record<PackageManager, string> = {
  npm: 'package-lock.json',
  pnpm: 'pnpm-lock.yaml',
  yarn: 'yarn.lock',
};

/** The install of every dependency for the stages, and of the production ones in the artifact. */
const INSTALL: Record<PackageManager, { frozen: Argv; open: Argv; production: Argv; openProduction: Argv }> =
  {
    npm: {
      frozen: ['npm', 'ci'],
      open: ['npm', 'install'],
      production: ['npm', 'ci', '--omit=dev'],
      openProduction: ['npm', 'install', '--omit=dev'],
    },
    pnpm: {
      frozen: ['pnpm', 'install', '--frozen-lockfile'],
      open: ['pnpm', 'install'],
      production: ['pnpm', 'install', '--frozen-lockfile', '--prod'],
      openProduction: ['pnpm', 'install', '--prod'],
    },
    yarn: {
      frozen: ['yarn', 'install', '--frozen-lockfile'],
      open: ['yarn', 'install'],
      production: ['yarn', 'install', '--frozen-lockfile', '--production'],
      openProduction: ['yarn', 'install', '--production'],
    },
  };

/** Lists the production dependencies, failing when one is missing: the check of a project with no build. */
const LIST_PRODUCTION: Record<PackageManager, Argv> = {
  npm: ['npm', 'ls', '--omit=dev'],
  pnpm: ['pnpm', 'list', '--prod'],
  yarn: ['yarn', 'list', '--depth=0'],
};

/** What `npm init` writes as the test script: a placeholder, not a test. */
const NPM_INIT_TEST = /no test specified/;

/** The package.json name, the package manager and its lockfile, the scripts. */
export function readNodeFacts(files: ProjectFiles): { name?: string; facts: NodeFacts } {
  const pkg = files.json('package.json') ?? {};
  const declared = typeof pkg.packageManager === 'string' ? pkg.packageManager.split('@')[0] : undefined;
  const byLockfile = (Object.keys(LOCKFILES) as PackageManager[]).find((pm) => files.isFile(LOCKFILES[pm]));
  // The packageManager field (corepack's) is the project's own word; the lockfile only a trace of it.
  const packageManager = isPackageManager(declared) ? declared : (byLockfile ?? 'npm');
  const lockfile = files.isFile(LOCKFILES[packageManager]) ? LOCKFILES[packageManager] : undefined;
  const scripts = scriptsOf(pkg);
  const present = NODE_SCRIPTS.filter(
    (name) => scripts[name] !== undefined && !(name === 'test' && NPM_INIT_TEST.test(scripts[name])),
  );
  const name = typeof pkg.name === 'string' ? pkg.name : undefined;
  return { name, facts: { packageManager, ...(lockfile ? { lockfile } : {}), scripts: present } };
}

/** The stages, artifact and start command of a Node project. */
export function nodeToolchain(files: ProjectFiles, facts: NodeFacts): Toolchain {
  const pkg = files.json('package.json') ?? {};
  const { packageManager: pm, lockfile } = facts;
  const has = (script: NodeScript): boolean => facts.scripts.includes(script);
  const install = INSTALL[pm];

  const checks: Check[] = (['test', 'lint', 'typecheck'] as const)
    .filter(has)
    .map((name) => ({ name, steps: [run(pm, name)] }));
  const keep = ['package.json', ...(lockfile ? [lockfile] : [])];
  const output = has('build') ? buildOutput(files, scriptsOf(pkg).build ?? '') : undefined;
  const sources = output ? [] : runtimeSources(files, pkg);

  const artifact: Artifact = {
    include: [...new Set([...(output ? [output.folder] : sources), ...keep])],
    install: lockfile ? install.production : install.openProduction,
    ...(pm === 'npm'
      ? {}
      : {
          sbom: {
            argv:
              pm === 'pnpm' ? ['pnpm', 'sbom', '--sbom-format', 'cyclonedx', '--prod'] : NPM_SBOM_INSTALLED,
            note:
              pm === 'pnpm'
                ? 'The bill of materials kept with each release. `pnpm sbom` needs pnpm 11 or later.'
                : 'The bill of materials kept with each release, read by npm from the installed node_modules.',
          },
        }),
    ...(output?.todo ? { todo: output.todo } : {}),
    ...(!output && sources.length === 0
      ? { todo: 'list the files and folders your app runs from (no build script, no "main")' }
      : {}),
  };

  return {
    image: `node:${nodeMajor(pkg)}-slim`,
    install: { steps: [lockfile ? install.frozen : install.open] },
    checks,
    build: has('build')
      ? { name: 'build', steps: [run(pm, 'build')], purpose: `runs your build script (${pm} run build)` }
      : {
          name: 'package',
          steps: [LIST_PRODUCTION[pm]],
          purpose:
            'checks that the production dependencies are installed (package.json has no build script: put your build here when you add one)',
        },
    artifact,
    dependencies: [{ path: 'node_modules', key: [lockfile ?? 'package.json'] }],
    start: startCommand(files, pkg, pm, has('start')),
  };
}

/** npm writes an SBOM from the installed tree when there is no package-lock.json to read. */
const NPM_SBOM_INSTALLED: Argv = ['npm', 'sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev'];

function isPackageManager(value: string | undefined): value is PackageManager {
  return value === 'npm' || value === 'pnpm' || value === 'yarn';
}

function scriptsOf(pkg: Record<string, unknown>): Partial<Record<string, string>> {
  const scripts = pkg.scripts;
  if (!scripts || typeof scripts !== 'object') return {};
  return Object.fromEntries(
    Object.entries(scripts).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** A script through the package manager: `npm test` and `npm start` need no `run`, the others do. */
function run(pm: PackageManager, script: NodeScript): Argv {
  return script === 'test' || script === 'start' ? [pm, script] : [pm, 'run', script];
}

/** Where the build writes: tsconfig's outDir for tsc, else an existing dist/ or build/, else dist. */
function buildOutput(files: ProjectFiles, script: string): { folder: string; todo?: string } {
  if (/\btsc\b/.test(script)) {
    // tsconfig.json allows comments, so JSON.parse may refuse it: read the one field.
    const outDir = /"outDir"\s*:\s*"([^"]+)"/.exec(files.text('tsconfig.json') ?? '')?.[1];
    if (outDir) return { folder: outDir.replace(/^\.\//, '').replace(/\/+$/, '') };
  }
  const existing = ['dist', 'build'].find((folder) => files.isDir(folder));
  if (existing) return { folder: existing };
  return { folder: 'dist', todo: 'check that your build script writes its output to dist/' };
}

/** Without a build, the release runs the source: package.json "files", else main's folder and src/ or lib/. */
function runtimeSources(files: ProjectFiles, pkg: Record<string, unknown>): string[] {
  if (Array.isArray(pkg.files) && pkg.files.every((entry) => typeof entry === 'string')) {
    return pkg.files;
  }
  const main = mainFile(files, pkg);
  const top = main?.replace(/^\.\//, '').split('/')[0];
  return [...new Set([...(top ? [top] : []), ...['src', 'lib'].filter((folder) => files.isDir(folder))])];
}

function mainFile(files: ProjectFiles, pkg: Record<string, unknown>): string | undefined {
  if (typeof pkg.main === 'string' && pkg.main.length > 0) return pkg.main;
  return files.firstFile('index.js', 'server.js', 'app.js');
}

function startCommand(
  files: ProjectFiles,
  pkg: Record<string, unknown>,
  pm: PackageManager,
  hasStart: boolean,
): StartCommand {
  if (hasStart) return { argv: run(pm, 'start'), from: 'package.json "start" script' };
  const main = mainFile(files, pkg);
  if (main)
    return { argv: ['node', main], from: typeof pkg.main === 'string' ? 'package.json "main"' : main };
  const todo = 'write the command that starts your app (no start script, no "main")';
  return { argv: todoCommand('start'), from: 'nothing found', todo };
}

/** The Node major of engines.node (">=22" → 22); 20 when it names none. */
function nodeMajor(pkg: Record<string, unknown>): number {
  const engines = pkg.engines as { node?: unknown } | undefined;
  const major = typeof engines?.node === 'string' ? Number(/(\d+)/.exec(engines.node)?.[1]) : NaN;
  return Number.isInteger(major) && major >= 18 ? major : 20;
}
