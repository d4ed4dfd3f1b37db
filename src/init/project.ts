/** What `tollgate init` found in a project: the types detection returns and the template renders. */

/** A command as an argv array: run without a shell, so ['npm', 'test'], not 'npm test'. */
export type Argv = string[];

/** The layouts init recognises. */
export type ProjectKind = 'node' | 'python' | 'go' | 'unknown';

/** The Node package managers init recognises, each by its lockfile. */
export type PackageManager = 'npm' | 'pnpm' | 'yarn';

/** The package.json scripts init turns into stages (or the start command). */
export const NODE_SCRIPTS = ['test', 'build', 'lint', 'start', 'typecheck'] as const;

/** One of the package.json scripts init looks for. */
export type NodeScript = (typeof NODE_SCRIPTS)[number];

/** The names of the checks init writes, each a stage that runs once the install is done. */
export type CheckName = 'test' | 'lint' | 'typecheck' | 'vet';

/** The commands of one stage; `todo` says what the user must fill in when init could not tell. */
export interface StepList {
  steps: Argv[];
  todo?: string;
}

/** A check of the source: its stage name and commands. */
export interface Check extends StepList {
  name: CheckName;
}

/** The last stage: it builds (or, with nothing to build, checks) and packs the artifact. */
export interface ArtifactStage extends StepList {
  name: 'build' | 'package';
  /** What the stage's commands do, in a few plain words, for the comment above it. */
  purpose: string;
}

/** What a release holds and how its production dependencies get in. */
export interface Artifact {
  include: string[];
  install: Argv;
  /** Why `install` is what it is, when that is not the usual production install. */
  installNote?: string;
  /** Only where Tollgate's default (`npm sbom` from package-lock.json) cannot work. */
  sbom?: { argv: Argv; note: string };
  todo?: string;
}

/** A folder restored into each run's fresh checkout while its key files are unchanged. */
export interface Dependency {
  path: string;
  key: string[];
}

/** How a release starts; `from` says how init chose it. */
export interface StartCommand {
  argv: Argv;
  from: string;
  todo?: string;
}

/** The git repository around the project. */
export interface GitRepository {
  root: string;
  /** Whether git ignores `.tollgate/`, where `tollgate dev` keeps its state. */
  ignoresTollgateHome: boolean;
}

/** Who may let a release into production; a placeholder with `todo` when git knows no user. */
export interface Approver {
  identity: string;
  from?: string;
  todo?: string;
}

/** What one kind of project needs: the commands and files of its pipeline. */
export interface Toolchain {
  image: string;
  /** Absent when nothing needs installing before the checks (an unknown layout). */
  install?: StepList;
  checks: Check[];
  build: ArtifactStage;
  artifact: Artifact;
  dependencies: Dependency[];
  start: StartCommand;
}

/** What the Node detector read from package.json and the lockfile. */
export interface NodeFacts {
  packageManager: PackageManager;
  /** Absent when the project has none (the install is then `npm install`). */
  lockfile?: string;
  scripts: NodeScript[];
}

/** What the Python detector read. */
export interface PythonFacts {
  /** The files that declare the dependencies, e.g. requirements.txt, pyproject.toml. */
  manifests: string[];
  pytest: boolean;
}

/** What the Go detector read from go.mod. */
export interface GoFacts {
  module: string;
  /** The main package built: '.' or './cmd/<name>'. */
  mainPackage: string;
}

/** The facts that only one kind of project has. */
export type KindFacts =
  | { kind: 'node'; node: NodeFacts }
  | { kind: 'python'; python: PythonFacts }
  | { kind: 'go'; go: GoFacts }
  | { kind: 'unknown' };

/** A project as init found it: everything the config template needs. */
export type ProjectDescription = KindFacts &
  Toolchain & {
    dir: string;
    app: string;
    /** Where the app name came from, e.g. 'package.json "name"'. */
    appFrom: string;
    /** Absent when the folder is not inside a git repository. */
    git?: GitRepository;
    approver: Approver;
  };

/** The rule every app name follows (the config's `app`). */
export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Turns any name into a valid app name: lower-case letters, digits, dashes, at most 40; '' when nothing is left. */
export function toAppName(name: string): string {
  // npm scopes name the owner, not the app: '@acme/notes-api' is notes-api.
  const unscoped = name.replace(/^@[^/]+\//, '');
  return plainName(unscoped).slice(0, 40).replace(/-+$/, '');
}

/** Lower-case ASCII letters, digits and single dashes: 'José Núñez' → 'jose-nunez'. */
export function plainName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** A stand-in for a command init could not work out: it fails, naming the `field` to set (e.g. 'start'). */
export function todoCommand(field: string): Argv {
  return ['sh', '-c', `echo "TODO: set ${field} in tollgate.config.ts" >&2; exit 1`];
}
