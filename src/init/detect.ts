/** Inspects a folder and says what project it holds: its kind, name, commands, artifact, git repository. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ProjectFiles } from './files.js';
import { goToolchain, readGoFacts } from './go.js';
import { nodeToolchain, readNodeFacts } from './node.js';
import { PYTHON_MANIFESTS, pythonToolchain, readPythonFacts } from './python.js';
import {
  plainName,
  todoCommand,
  toAppName,
  type Approver,
  type GitRepository,
  type KindFacts,
  type ProjectDescription,
  type Toolchain,
} from './project.js';

/** Runs git with `args` in `cwd`: its trimmed output, or undefined when it fails (or git is missing). */
export type GitCommand = (args: string[], cwd: string) => string | undefined;

/** What detection may be given instead of the real thing (tests). */
export interface DetectOptions {
  git?: GitCommand;
}

/** Describes the project in `dir`: Node (package.json), Python, Go (go.mod), or unknown. */
export function detectProject(dir: string, options: DetectOptions = {}): ProjectDescription {
  const root = resolve(dir);
  const files = new ProjectFiles(root);
  const git = options.git ?? runGit;
  const found = detectKind(files);
  const fromFolder = toAppName(files.folderName);
  const fromProject = found.name === undefined ? '' : toAppName(found.name);
  const app = fromProject || fromFolder || 'app';
  const appFrom = fromProject ? found.nameSource : fromFolder ? 'the folder name' : 'nothing found';
  const toolchain = found.toolchain(app);
  const repository = gitRepository(root, git);
  return {
    ...found.facts,
    ...toolchain,
    dir: root,
    app,
    appFrom,
    ...(repository ? { git: repository } : {}),
    approver: approver(root, git),
  };
}

/** The kind's facts, its own name for the app, and its toolchain (which may need the final app name). */
interface Detected {
  facts: KindFacts;
  name?: string;
  nameSource: string;
  toolchain: (app: string) => Toolchain;
}

function detectKind(files: ProjectFiles): Detected {
  if (files.isFile('package.json')) {
    const { name, facts } = readNodeFacts(files);
    return {
      facts: { kind: 'node', node: facts },
      name,
      nameSource: 'package.json "name"',
      toolchain: () => nodeToolchain(files, facts),
    };
  }
  if (PYTHON_MANIFESTS.some((path) => files.isFile(path))) {
    const { name, nameFrom, facts } = readPythonFacts(files);
    return {
      facts: { kind: 'python', python: facts },
      name,
      nameSource: nameFrom,
      toolchain: () => pythonToolchain(files, facts),
    };
  }
  if (files.isFile('go.mod')) {
    const { name, facts } = readGoFacts(files);
    return {
      facts: { kind: 'go', go: facts },
      name,
      nameSource: 'the go.mod module path',
      // The binary keeps the module's own spelling; the app name only when the module names none.
      toolchain: (app) => goToolchain(files, facts, name ?? app),
    };
  }
  return { facts: { kind: 'unknown' }, nameSource: 'the folder name', toolchain: unknownToolchain };
}

/** A layout init does not know: every command a placeholder that fails and says what to write. */
function unknownToolchain(): Toolchain {
  const test = 'write the command that runs your tests';
  const build = 'write the command that builds your app';
  const start = 'write the command that starts your app';
  const include = 'list the files and folders a release needs';
  return {
    image: 'debian:bookworm-slim',
    checks: [{ name: 'test', steps: [todoCommand('the test step')], todo: test }],
    build: { name: 'build', steps: [todoCommand('the build step')], purpose: 'builds your app', todo: build },
    artifact: { include: ['dist'], install: ['true'], todo: include },
    dependencies: [],
    start: { argv: todoCommand('start'), from: 'nothing found', todo: start },
  };
}

function gitRepository(dir: string, git: GitCommand): GitRepository | undefined {
  const root = git(['rev-parse', '--show-toplevel'], dir);
  if (!root) return undefined;
  // check-ignore prints the path when git ignores it, and fails when it does not.
  const ignoresTollgateHome = git(['check-ignore', '.tollgate/'], dir) !== undefined;
  return { root, ignoresTollgateHome };
}

/** The git user (user.name) as a plain identity, the name `tollgate promote --by` takes. */
function approver(dir: string, git: GitCommand): Approver {
  const userName = git(['config', 'user.name'], dir);
  const identity = userName ? plainName(userName) : '';
  if (identity) return { identity, from: `git user.name "${userName}"` };
  return {
    identity: 'your-name',
    todo: 'name who may promote to production (git has no user.name to take it from)',
  };
}

function runGit(args: string[], cwd: string): string | undefined {
  try {
    const output = execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    return output || undefined;
  } catch {
    return undefined;
  }
}
