/** The pipeline of a Python project: a .venv from requirements.txt, pyproject.toml or setup.py. */
import type { ProjectFiles } from './files.js';
import { todoCommand, type Argv, type Check, type PythonFacts, type Toolchain } from './project.js';

/** The files whose presence makes a folder a Python project, in the order they are read for the install. */
export const PYTHON_MANIFESTS = ['requirements.txt', 'pyproject.toml', 'setup.py'] as const;

/** Files that name development tools (pytest, ruff) without being the install's manifest. */
const TOOL_FILES = [
  'requirements-dev.txt',
  'dev-requirements.txt',
  'requirements-test.txt',
  'setup.cfg',
  'tox.ini',
];

/** Files that start an app, in the order init guesses them. */
const ENTRY_POINTS = ['app.py', 'main.py', 'server.py', 'wsgi.py', 'asgi.py'];

const PYTHON = '.venv/bin/python';
const PIP = '.venv/bin/pip';

/** The project name from pyproject.toml ([project] or [tool.poetry]) or setup.py, and what init read. */
export function readPythonFacts(files: ProjectFiles): {
  name?: string;
  nameFrom: string;
  facts: PythonFacts;
} {
  const manifests = PYTHON_MANIFESTS.filter((path) => files.isFile(path));
  const read = [...manifests, ...TOOL_FILES, 'pytest.ini'];
  const pytest = files.mentions('pytest', read) || files.isFile('pytest.ini') || files.isFile('conftest.py');
  return { ...pythonName(files), facts: { manifests, pytest } };
}

/** The stages, artifact and start command of a Python project. */
export function pythonToolchain(files: ProjectFiles, facts: PythonFacts): Toolchain {
  const requirements = facts.manifests.includes('requirements.txt');
  const devRequirements = ['requirements-dev.txt', 'dev-requirements.txt', 'requirements-test.txt'].filter(
    (path) => files.isFile(path),
  );
  const install: Argv[] = [
    ['python3', '-m', 'venv', '.venv'],
    requirements ? [PIP, 'install', '-r', 'requirements.txt'] : [PIP, 'install', '-e', '.'],
    ...devRequirements.map((path) => [PIP, 'install', '-r', path]),
  ];

  const tools = [...facts.manifests, ...TOOL_FILES];
  const checks: Check[] = [];
  if (facts.pytest || files.isDir('tests')) {
    // A tests/ folder without pytest in any manifest: the stage installs pytest itself.
    const ownPytest = facts.pytest ? [] : [[PIP, 'install', 'pytest']];
    checks.push({ name: 'test', steps: [...ownPytest, [PYTHON, '-m', 'pytest']] });
  }
  if (files.mentions('ruff', tools))
    checks.push({ name: 'lint', steps: [[PYTHON, '-m', 'ruff', 'check', '.']] });
  else if (files.mentions('flake8', tools)) checks.push({ name: 'lint', steps: [[PYTHON, '-m', 'flake8']] });
  if (files.mentions('mypy', tools)) checks.push({ name: 'typecheck', steps: [[PYTHON, '-m', 'mypy', '.']] });

  const sources = pythonSources(files);
  const manifests = [...facts.manifests, ...(files.isFile('setup.cfg') ? ['setup.cfg'] : [])];
  const venv = requirements
    ? `python3 -m venv .venv && ${PIP} install -r requirements.txt`
    : `python3 -m venv .venv && ${PIP} install .`;
  const noSources =
    'list the files and folders of your app (no app.py, main.py, src/ or package folder found)';

  return {
    image: 'python:3.12-slim',
    install: { steps: install },
    checks,
    build: {
      name: 'package',
      steps:
        sources.length > 0
          ? [[PYTHON, '-m', 'compileall', '-q', ...sources]]
          : [todoCommand('the package step')],
      purpose: 'checks that every source file compiles (Python has nothing to build)',
      ...(sources.length > 0 ? {} : { todo: noSources }),
    },
    artifact: {
      include: [...sources, ...manifests],
      install: ['sh', '-c', venv],
      installNote:
        "The release gets a .venv of its own: a venv holds absolute paths, so the install stage's cannot be copied.",
      sbom: {
        argv: [PIP, 'inspect'],
        note: "A list of what the release's .venv holds (pip's JSON inventory), kept with each release. For a CycloneDX SBOM use a tool such as syft: ['syft', 'dir:.', '-o', 'cyclonedx-json'].",
      },
      ...(sources.length > 0 ? {} : { todo: noSources }),
    },
    dependencies: [{ path: '.venv', key: [...facts.manifests, ...devRequirements] }],
    start: pythonStart(files),
  };
}

function pythonName(files: ProjectFiles): { name?: string; nameFrom: string } {
  const pyproject = files.text('pyproject.toml') ?? '';
  for (const table of ['project', 'tool.poetry']) {
    const body = tomlTable(pyproject, table);
    const name = body && /^\s*name\s*=\s*["']([^"']+)["']/m.exec(body)?.[1];
    if (name) return { name, nameFrom: `pyproject.toml [${table}] name` };
  }
  const name = /\bname\s*=\s*["']([^"']+)["']/.exec(files.text('setup.py') ?? '')?.[1];
  return name ? { name, nameFrom: 'setup.py name' } : { nameFrom: 'the folder name' };
}

/** The lines of one TOML table, up to the next table header. */
function tomlTable(toml: string, table: string): string | undefined {
  const header = new RegExp(`^\\[${table.replace('.', '\\.')}\\]\\s*$`, 'm').exec(toml);
  if (!header) return undefined;
  const rest = toml.slice(header.index + header[0].length);
  const next = /^\[/m.exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

/** Entry files, src/, and top-level packages (folders with __init__.py) other than the tests. */
function pythonSources(files: ProjectFiles): string[] {
  const entries = ENTRY_POINTS.filter((path) => files.isFile(path));
  if (files.isFile('manage.py')) entries.push('manage.py');
  const packages = files
    .list()
    .filter((name) => !['tests', 'test', '.venv', 'venv'].includes(name))
    .filter((name) => files.isFile(`${name}/__init__.py`));
  return [...entries, ...(files.isDir('src') ? ['src'] : []), ...packages];
}

function pythonStart(files: ProjectFiles): Toolchain['start'] {
  const entry = files.firstFile(...ENTRY_POINTS.slice(0, 3));
  if (entry) return { argv: [PYTHON, entry], from: entry };
  const todo = 'write the command that starts your app, e.g. [".venv/bin/python", "-m", "your_app"]';
  return { argv: todoCommand('start'), from: 'nothing found', todo };
}
