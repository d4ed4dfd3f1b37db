/** `tollgate init`: writes a commented tollgate.config.ts for the app in a folder, never over an existing one. */
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { ExitCode, ExitError } from '../cli/exit.js';
import { DEFAULT_CONFIG_FILE } from '../config/index.js';
import { detectProject } from '../init/detect.js';
import { APP_NAME, toAppName, type ProjectDescription } from '../init/project.js';
import { environmentPorts, renderConfig, stageGraph, todosOf } from '../init/template.js';

/** Options of `tollgate init`. */
export interface InitOptions {
  /** The app's folder (default: the current one). */
  dir?: string;
  /** The app name, instead of the one init reads from the project. */
  app?: string;
  /** Print the config instead of writing it. */
  print?: boolean;
}

/** Every name the config loader could be pointed at: init refuses when any of them exists. */
export const CONFIG_FILES = [
  DEFAULT_CONFIG_FILE,
  'tollgate.config.mts',
  'tollgate.config.js',
  'tollgate.config.mjs',
  'tollgate.config.cjs',
] as const;

/** The commit message init suggests for the config. */
const COMMIT_MESSAGE = 'Add the Tollgate release pipeline';

/** Writes `<dir>/tollgate.config.ts` from what the folder holds and prints what it found and what to run next. */
export async function init(options: InitOptions): Promise<number> {
  const dir = resolve(options.dir ?? '.');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ExitError(
      ExitCode.BadInput,
      `--dir ${options.dir ?? dir} is not a folder: point it at your app's folder`,
    );
  }
  if (options.app !== undefined && !APP_NAME.test(options.app)) {
    const suggestion = toAppName(options.app);
    throw new ExitError(
      ExitCode.BadInput,
      `--app ${JSON.stringify(options.app)} is not an app name: use 1-40 lower-case letters, digits and dashes${suggestion ? `, e.g. --app ${suggestion}` : ''}`,
    );
  }

  const detected = detectProject(dir);
  const project: ProjectDescription =
    options.app === undefined ? detected : { ...detected, app: options.app, appFrom: '--app' };
  const text = renderConfig(project);
  if (options.print) {
    // Only the config on stdout, so `tollgate init --print > file` works.
    process.stdout.write(text);
    return ExitCode.Ok;
  }

  const existing = CONFIG_FILES.find((name) => existsSync(join(dir, name)));
  if (existing) throw refusal(join(dir, existing));
  const file = join(dir, DEFAULT_CONFIG_FILE);
  try {
    // 'wx': a config that appeared since the check above is refused too, never overwritten.
    await writeFile(file, text, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw refusal(file);
    throw error;
  }

  for (const line of report(project, shown(file))) console.log(line);
  return ExitCode.Ok;
}

function refusal(file: string): ExitError {
  const name = basename(file);
  return new ExitError(
    ExitCode.BadInput,
    `${shown(file)} already exists, and init never overwrites a config: edit that file, or move it aside (mv ${name} ${name}.old) and run init again; \`tollgate init --print\` shows what init would write`,
  );
}

/** What init found, the TODOs it left, and the three commands to run next. */
function report(project: ProjectDescription, file: string): string[] {
  const ports = environmentPorts(project.app);
  const todos = todosOf(project);
  const lines = [
    `${found(project)} in ${shown(project.dir) || '.'}:`,
    `  app           ${project.app} (from ${project.appFrom})`,
    `  stages        ${stageLevels(project).join(' → ')}`,
    `  artifact      ${project.artifact.include.join(', ')}`,
    `  start         ${project.start.todo ? 'TODO' : `${project.start.argv.join(' ')} (from ${project.start.from})`}`,
    `  environments  staging on 127.0.0.1:${ports.staging}, production on 127.0.0.1:${ports.production}`,
    `  approver      ${project.approver.identity}${project.approver.todo ? ' (TODO)' : ` (from ${project.approver.from})`}`,
    `Wrote ${file}: every section says what it does.`,
  ];
  if (todos.length > 0) {
    lines.push(
      '',
      'Before the first release, fill in the TODOs in it:',
      ...todos.map((todo) => `  - ${todo}`),
    );
  }
  lines.push('', ...nextSteps(project));
  return lines;
}

function found(project: ProjectDescription): string {
  switch (project.kind) {
    case 'node':
      return `Found a Node project (${project.node.packageManager}, ${project.node.lockfile ?? 'no lockfile'})`;
    case 'python':
      return `Found a Python project (${project.python.manifests.join(', ')}${project.python.pytest ? ', pytest' : ''})`;
    case 'go':
      return `Found a Go module (${project.go.module || 'go.mod'})`;
    case 'unknown':
      return 'Found no package.json, pyproject.toml, requirements.txt, setup.py or go.mod';
  }
}

/** The stages by when they can start: 'install → test, lint → build'. */
function stageLevels(project: ProjectDescription): string[] {
  const level = new Map<string, number>();
  const levels: string[][] = [];
  for (const node of stageGraph(project)) {
    const at = Math.max(-1, ...(node.needs ?? []).map((need) => level.get(need) ?? 0)) + 1;
    level.set(node.name, at);
    (levels[at] ??= []).push(node.name);
  }
  return levels.map((names) => names.join(', '));
}

function nextSteps(project: ProjectDescription): string[] {
  const where = shown(project.dir);
  const lines = [where ? `Next, in ${where}:` : 'Next:'];
  if (project.git) {
    lines.push(`  1. git add ${DEFAULT_CONFIG_FILE} && git commit -m "${COMMIT_MESSAGE}"`);
    if (!project.git.ignoresTollgateHome) {
      lines.push('     (and add .tollgate/ to .gitignore: `tollgate dev` keeps its state there)');
    }
  } else {
    lines.push(
      `  1. git init && git add -A && git commit -m "${COMMIT_MESSAGE}"`,
      `     Tollgate releases commits, and ${where || 'this folder'} is not in a git repository yet.`,
      '     A .gitignore listing node_modules/, .venv/, dist/ and .tollgate/ first keeps those out of it.',
    );
  }
  lines.push(
    '  2. npx tollgate dev --detach      (a Temporal dev server in the background)',
    '     npx tollgate worker            (in a second terminal: it runs the stages and deploys)',
    '  3. npx tollgate run --wait        (releases the commit at HEAD and follows it)',
  );
  return lines;
}

/** A path as the user would type it from here: relative when inside the current folder. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}
