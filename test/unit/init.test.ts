/** `tollgate init`: what it detects, the schema-2 config it renders (loaded for real), and its refusals. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { execFileSync } from 'node:child_process';
import { createJiti } from 'jiti';
import { ExitCode, ExitError } from '../../src/cli/exit.js';
import { init } from '../../src/commands/init.js';
import { detectProject, type GitCommand } from '../../src/init/detect.js';
import { APP_NAME, toAppName, type ProjectDescription } from '../../src/init/project.js';
import { environmentPorts, renderConfig } from '../../src/init/template.js';

/** Every temp project lives here; git looks no further up, whatever holds the temp folder. */
const base = realpathSync(mkdtempSync(join(tmpdir(), 'tollgate-init-')));
const saved = { ...process.env };

before(() => {
  const gitconfig = join(base, 'gitconfig');
  writeFileSync(gitconfig, '[user]\n\tname = Zoë Example\n\temail = zoe@example.com\n');
  Object.assign(process.env, {
    GIT_CEILING_DIRECTORIES: base,
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: '1',
  });
});

after(() => {
  for (const name of ['GIT_CEILING_DIRECTORIES', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

let counter = 0;

/** A folder named `name` holding `files` (a path ending in / is a folder). */
function project(name: string, files: Record<string, string>): string {
  const dir = join(base, `p${++counter}`, name);
  mkdirSync(dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    if (path.endsWith('/')) mkdirSync(join(dir, path), { recursive: true });
    else {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
  }
  return dir;
}

/** The config's comments as running text, so a match does not depend on where a line wraps. */
function prose(text: string): string {
  return text.replace(/\n\s*\/\/ /g, ' ');
}

/** A git that knows no repository and the user "Alice Smith": detection without the machine's git. */
const fakeGit: GitCommand = (args) => (args[0] === 'config' ? 'Alice Smith' : undefined);

/** The shape schema 2 asks of a config (see the plan): what the loaded config must look like. */
interface LoadedConfig {
  app: string;
  source: string;
  stages: Record<
    string,
    { needs?: string[]; steps: string[][]; artifact?: { include: string[]; install: string[] } }
  >;
  environments: {
    name: string;
    port: number;
    start: string[];
    healthPath: string;
    readyPath: string;
    smoke?: { routes: string[] };
    promotion?: { mode: string; approvers: string[] };
    verification?: { duration: string };
  }[];
  [key: string]: unknown;
}

/**
 * Loads `text` as the project's tollgate.config.ts with jiti, as the CLI does, while 'tollgate/config'
 * resolves to a stub package whose defineTollgate returns its argument.
 */
async function load(text: string): Promise<LoadedConfig> {
  const dir = project('loaded', {
    'node_modules/tollgate/package.json': JSON.stringify({
      name: 'tollgate',
      type: 'module',
      exports: { './config': './config.js' },
    }),
    'node_modules/tollgate/config.js': 'export const defineTollgate = (config) => config;\n',
    'tollgate.config.ts': text,
  });
  const jiti = createJiti(join(dir, 'tollgate.config.ts'), { moduleCache: false, fsCache: false });
  return jiti.import<LoadedConfig>(join(dir, 'tollgate.config.ts'), { default: true });
}

/** Checks a loaded config against schema 2; returns it for more specific checks. */
async function assertSchema2(description: ProjectDescription): Promise<LoadedConfig> {
  const text = renderConfig(description);
  for (const line of text.split('\n'))
    assert.ok(line.length <= 110, `a line of at most 110 characters: ${line}`);
  const config = await load(text);
  assert.match(config.app, APP_NAME);
  assert.equal(config.source, '.');
  for (const gone of ['promotion', 'smoke', 'verification', 'revenue'])
    assert.equal(config[gone], undefined, gone);

  const names = Object.keys(config.stages);
  names.forEach((name, index) => {
    const stage = config.stages[name]!;
    assert.match(name, /^[a-z][a-z0-9-]*$/);
    assert.ok(stage.steps.length > 0, `${name} has steps`);
    for (const step of stage.steps) {
      assert.ok(Array.isArray(step) && step.length > 0, `${name}: a step is an argv array`);
      for (const word of step as unknown[]) assert.ok(typeof word === 'string' && word.length > 0);
    }
    // Needs naming only stages declared before: every need exists, and the graph has no cycle.
    for (const need of stage.needs ?? [])
      assert.ok(names.slice(0, index).includes(need), `${name} needs ${need}`);
  });
  const artifacts = names.filter((name) => config.stages[name]!.artifact);
  assert.equal(artifacts.length, 1, 'exactly one stage packs the artifact');
  const artifact = config.stages[artifacts[0]!]!.artifact!;
  assert.ok(artifact.include.length > 0 && artifact.install.length > 0);

  assert.deepEqual(
    config.environments.map((env) => env.name),
    ['staging', 'production'],
  );
  const [staging, production] = config.environments as [
    LoadedConfig['environments'][0],
    LoadedConfig['environments'][0],
  ];
  assert.notEqual(staging.port, production.port);
  for (const env of config.environments) {
    assert.ok(Number.isInteger(env.port) && env.port >= 4100 && env.port <= 4899, `${env.name} port`);
    assert.ok(env.start.length > 0);
    assert.equal(env.healthPath, '/healthz');
    assert.equal(env.readyPath, '/readyz');
  }
  assert.deepEqual(staging.smoke?.routes, ['/healthz']);
  assert.equal(staging.promotion, undefined, "staging's gate is the default (automatic)");
  assert.equal(production.promotion?.mode, 'manual');
  assert.ok((production.promotion?.approvers.length ?? 0) > 0);
  assert.ok(production.verification);
  return config;
}

describe('init detects a Node project', () => {
  it('with npm and a build script: install, test and lint side by side, then build with the artifact', async () => {
    const dir = project('notes', {
      'package.json': JSON.stringify({
        name: '@acme/Notes_API',
        scripts: { build: 'tsc -p .', test: 'node --test', lint: 'eslint .', start: 'node dist/server.js' },
      }),
      'package-lock.json': '{}',
      'tsconfig.json': '{ // comments are allowed here\n "compilerOptions": { "outDir": "./out/" } }',
    });
    const found = detectProject(dir, { git: fakeGit });
    assert.equal(found.kind, 'node');
    assert.equal(found.app, 'notes-api');
    assert.equal(found.appFrom, 'package.json "name"');
    if (found.kind !== 'node') return;
    assert.deepEqual(found.node, {
      packageManager: 'npm',
      lockfile: 'package-lock.json',
      scripts: ['test', 'build', 'lint', 'start'],
    });
    assert.deepEqual(found.install?.steps, [['npm', 'ci']]);
    assert.deepEqual(found.build.steps, [['npm', 'run', 'build']]);
    assert.deepEqual(found.artifact.include, ['out', 'package.json', 'package-lock.json']);
    assert.deepEqual(found.artifact.install, ['npm', 'ci', '--omit=dev']);
    assert.equal(found.artifact.sbom, undefined, "npm's default SBOM works from package-lock.json");
    assert.deepEqual(found.start.argv, ['npm', 'start']);
    assert.deepEqual(found.dependencies, [{ path: 'node_modules', key: ['package-lock.json'] }]);
    assert.equal(found.git, undefined);
    assert.deepEqual(found.approver, { identity: 'alice-smith', from: 'git user.name "Alice Smith"' });

    const config = await assertSchema2(found);
    assert.deepEqual(
      Object.entries(config.stages).map(([name, stage]) => [name, stage.needs]),
      [
        ['install', undefined],
        ['test', ['install']],
        ['lint', ['install']],
        ['build', ['test', 'lint']],
      ],
    );
    assert.deepEqual(config.environments[1]?.promotion?.approvers, ['alice-smith']);
    assert.deepEqual(config.environments[0]?.start, ['npm', 'start']);
  });

  it('with pnpm and no build script: a package stage packs the source, start from "main"', async () => {
    const dir = project('shop', {
      'package.json': JSON.stringify({
        name: 'shop',
        main: 'server.js',
        engines: { node: '>=22' },
        scripts: { test: 'vitest run', typecheck: 'tsc --noEmit' },
      }),
      'pnpm-lock.yaml': 'lockfileVersion: 9.0\n',
      'server.js': '',
      'lib/': '',
    });
    const found = detectProject(dir, { git: fakeGit });
    assert.equal(found.kind, 'node');
    if (found.kind !== 'node') return;
    assert.deepEqual(found.node, {
      packageManager: 'pnpm',
      lockfile: 'pnpm-lock.yaml',
      scripts: ['test', 'typecheck'],
    });
    assert.equal(found.image, 'node:22-slim');
    assert.deepEqual(found.install?.steps, [['pnpm', 'install', '--frozen-lockfile']]);
    assert.deepEqual(
      found.checks.map((check) => check.steps),
      [[['pnpm', 'test']], [['pnpm', 'run', 'typecheck']]],
    );
    assert.equal(found.build.name, 'package');
    assert.deepEqual(found.artifact.include, ['server.js', 'lib', 'package.json', 'pnpm-lock.yaml']);
    assert.deepEqual(found.artifact.install, ['pnpm', 'install', '--frozen-lockfile', '--prod']);
    assert.deepEqual(found.start, { argv: ['node', 'server.js'], from: 'package.json "main"' });
    assert.deepEqual(found.dependencies, [{ path: 'node_modules', key: ['pnpm-lock.yaml'] }]);

    const config = await assertSchema2(found);
    assert.deepEqual(config.stages.package?.needs, ['test', 'typecheck']);
    assert.match(prose(renderConfig(found)), /pnpm must be installed where the stages run/);
  });

  it('without a lockfile installs with npm install, and keys node_modules on package.json', () => {
    const dir = project('bare', {
      'package.json': JSON.stringify({
        name: 'bare',
        scripts: { test: 'echo "Error: no test specified" && exit 1' },
      }),
    });
    const found = detectProject(dir, { git: fakeGit });
    assert.equal(found.kind, 'node');
    if (found.kind !== 'node') return;
    assert.deepEqual(found.node.scripts, [], "npm init's placeholder is not a test");
    assert.deepEqual(found.install?.steps, [['npm', 'install']]);
    assert.deepEqual(found.dependencies, [{ path: 'node_modules', key: ['package.json'] }]);
    assert.ok(found.start.todo, 'no start script and no main: the start command is a TODO');
  });
});

describe('init detects a Python project', () => {
  it('from requirements.txt with pytest: a .venv, pytest, app.py', async () => {
    const dir = project('Billing_Service', {
      'requirements.txt': 'flask==3.0.0\npytest>=8\n',
      'app.py': '',
      'billing/__init__.py': '',
      'tests/test_app.py': '',
    });
    const found = detectProject(dir, { git: fakeGit });
    assert.equal(found.kind, 'python');
    assert.equal(found.app, 'billing-service');
    assert.equal(found.appFrom, 'the folder name');
    if (found.kind !== 'python') return;
    assert.deepEqual(found.python, { manifests: ['requirements.txt'], pytest: true });
    assert.deepEqual(found.install?.steps, [
      ['python3', '-m', 'venv', '.venv'],
      ['.venv/bin/pip', 'install', '-r', 'requirements.txt'],
    ]);
    assert.deepEqual(found.checks, [{ name: 'test', steps: [['.venv/bin/python', '-m', 'pytest']] }]);
    assert.deepEqual(found.start.argv, ['.venv/bin/python', 'app.py']);
    assert.deepEqual(found.artifact.include, ['app.py', 'billing', 'requirements.txt']);
    assert.deepEqual(found.dependencies, [{ path: '.venv', key: ['requirements.txt'] }]);
    await assertSchema2(found);
  });

  it('from pyproject.toml alone: its [project] name, pip install -e ., pytest for tests/, a TODO start', async () => {
    const dir = project('svc', {
      'pyproject.toml': '[build-system]\nrequires = ["hatchling"]\n\n[project]\nname = "Inventory API"\n',
      'src/inventory/__init__.py': '',
      'tests/': '',
    });
    // A long approver: the promotion gate breaks over several lines instead of running past the width.
    const longName = 'Maximiliane Alexandra von Habsburg-Lothringen the Third';
    const found = detectProject(dir, { git: (args) => (args[0] === 'config' ? longName : undefined) });
    assert.equal(found.approver.identity, 'maximiliane-alexandra-von-habsburg-lothringen-the-third');
    assert.equal(found.app, 'inventory-api');
    assert.equal(found.appFrom, 'pyproject.toml [project] name');
    assert.deepEqual(found.install?.steps[1], ['.venv/bin/pip', 'install', '-e', '.']);
    assert.deepEqual(found.checks[0]?.steps, [
      ['.venv/bin/pip', 'install', 'pytest'],
      ['.venv/bin/python', '-m', 'pytest'],
    ]);
    assert.ok(found.start.todo);
    await assertSchema2(found);
  });
});

describe('init detects a Go module', () => {
  it('with the main package at the root: vet and test, then go build -o dist/<name> .', async () => {
    const dir = project('ledger-svc', {
      'go.mod': 'module github.com/acme/ledger/v2\n\ngo 1.23.1\n',
      'main.go': 'package main\n',
    });
    const found = detectProject(dir, { git: fakeGit });
    assert.equal(found.kind, 'go');
    assert.equal(found.app, 'ledger');
    assert.equal(found.image, 'golang:1.23');
    assert.deepEqual(
      found.checks.map((check) => [check.name, check.steps]),
      [
        ['vet', [['go', 'vet', './...']]],
        ['test', [['go', 'test', './...']]],
      ],
    );
    assert.deepEqual(found.build.steps, [['go', 'build', '-o', 'dist/ledger', '.']]);
    assert.deepEqual(found.artifact.include, ['dist']);
    assert.deepEqual(found.start.argv, ['./dist/ledger']);
    assert.deepEqual(found.dependencies, []);
    const config = await assertSchema2(found);
    assert.equal(config.dependencies, undefined);
  });

  it('with cmd/<name>: builds ./cmd/<name>', async () => {
    const dir = project('ledger', {
      'go.mod': 'module example.com/ledger\n\ngo 1.22\n',
      'cmd/ledger/main.go': 'package main\n',
    });
    const found = detectProject(dir, { git: fakeGit });
    assert.deepEqual(found.build.steps, [['go', 'build', '-o', 'dist/ledger', './cmd/ledger']]);
    assert.equal(found.build.todo, undefined);
    await assertSchema2(found);
  });
});

describe('init with an unknown layout', () => {
  it('names the app after the folder and leaves every command a TODO that fails saying so', async () => {
    const dir = project('My Tool', { 'README.md': '# hi\n' });
    const found = detectProject(dir, { git: () => undefined });
    assert.equal(found.kind, 'unknown');
    assert.equal(found.app, 'my-tool');
    assert.equal(found.install, undefined);
    assert.equal(found.approver.identity, 'your-name');
    assert.ok(found.approver.todo);
    const text = renderConfig(found);
    assert.match(text, /Before the first release, fill in what init could not tell/);
    assert.match(text, /TODO: write the command that starts your app/);
    const config = await assertSchema2(found);
    assert.deepEqual(config.stages.test?.steps[0]?.slice(0, 2), ['sh', '-c']);
  });
});

describe('the rendered config', () => {
  it('picks the same two ports for the same app, staging and production apart, within 4100-4899', () => {
    assert.deepEqual(environmentPorts('notes-api'), environmentPorts('notes-api'));
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const { staging, production } = environmentPorts(`app-${i}`);
      assert.notEqual(staging, production);
      for (const port of [staging, production]) assert.ok(port >= 4100 && port <= 4899, String(port));
      seen.add(staging);
    }
    assert.ok(seen.size > 200, 'the names spread over the range');
  });

  it('makes any name a valid app name', () => {
    assert.equal(toAppName('@acme/Notes API'), 'notes-api');
    assert.equal(toAppName('--Café__Crème--'), 'cafe-creme');
    assert.equal(toAppName('x'.repeat(39) + '-y'), 'x'.repeat(39));
    assert.equal(toAppName('!!!'), '');
  });

  it('says in plain words what stages, needs, secrets and the gate are, and how to add revenue', () => {
    const text = renderConfig(
      detectProject(project('words', { 'package.json': '{"name":"words"}' }), { git: fakeGit }),
    );
    assert.match(text, /^import \{ defineTollgate \} from 'tollgate\/config';$/m);
    assert.match(text, /A stage is one named part of the pipeline/);
    assert.match(text, /`needs` names the stages that must pass first/);
    assert.match(text, /Secrets are listed by NAME/);
    assert.match(text, /The gate before production/);
    assert.match(text, /\/\/ revenue: \{ webhookPath: '\/webhooks\/stripe'/);
    assert.match(text, /change them to routes your app answers/);
  });
});

describe('tollgate init', () => {
  const quiet = (): { lines: () => string } => {
    const log = mock.method(console, 'log', () => undefined);
    return { lines: () => log.mock.calls.map((call) => String(call.arguments[0])).join('\n') };
  };

  it('writes tollgate.config.ts, prints what it found and the next three commands', async (t) => {
    const dir = project('api', {
      'package.json': JSON.stringify({
        name: 'api',
        scripts: { test: 'node --test', start: 'node server.js' },
      }),
      'package-lock.json': '{}',
      'server.js': '',
    });
    execFileSync('git', ['init', '-q', dir]);
    const out = quiet();
    t.after(() => mock.restoreAll());
    assert.equal(await init({ dir }), ExitCode.Ok);
    const text = readFileSync(join(dir, 'tollgate.config.ts'), 'utf8');
    assert.match(text, /approvers: \['zoe-example'\]/);
    const printed = out.lines();
    assert.match(printed, /Found a Node project \(npm, package-lock\.json\)/);
    assert.match(printed, /stages +install → test → package/);
    assert.match(printed, /1\. git add tollgate\.config\.ts && git commit -m/);
    assert.match(printed, /add \.tollgate\/ to \.gitignore/);
    assert.match(printed, /2\. npx tollgate dev --detach/);
    assert.match(printed, /npx tollgate worker/);
    assert.match(printed, /3\. npx tollgate run --wait/);
    await assertSchema2(detectProject(dir));
  });

  it('outside a git repository still writes the config, and says to commit it with git init first', async (t) => {
    const dir = project('loose', { 'go.mod': 'module loose\n', 'main.go': 'package main\n' });
    const out = quiet();
    t.after(() => mock.restoreAll());
    assert.equal(await init({ dir, app: 'loose-api' }), ExitCode.Ok);
    assert.ok(existsSync(join(dir, 'tollgate.config.ts')));
    assert.match(readFileSync(join(dir, 'tollgate.config.ts'), 'utf8'), /app: 'loose-api'/);
    const printed = out.lines();
    assert.match(printed, /app +loose-api \(from --app\)/);
    assert.match(printed, /1\. git init && git add -A && git commit -m "/);
    assert.match(printed, /Tollgate releases commits/);
  });

  it('refuses to overwrite an existing config, naming the file and the fix', async () => {
    for (const name of ['tollgate.config.ts', 'tollgate.config.js', 'tollgate.config.mjs']) {
      const dir = project('kept', { 'package.json': '{"name":"kept"}', [name]: 'export default {};\n' });
      await assert.rejects(
        init({ dir }),
        (error: unknown) =>
          error instanceof ExitError &&
          error.code === ExitCode.BadInput &&
          error.message.includes(join(dir, name)) &&
          error.message.includes('init never overwrites a config') &&
          error.message.includes(`mv ${name} ${name}.old`),
      );
      assert.equal(readFileSync(join(dir, name), 'utf8'), 'export default {};\n');
      if (name !== 'tollgate.config.ts') assert.ok(!existsSync(join(dir, 'tollgate.config.ts')));
    }
  });

  it('refuses an --app that is not an app name, suggesting one that is', async () => {
    const dir = project('named', { 'package.json': '{"name":"named"}' });
    await assert.rejects(
      init({ dir, app: 'Notes API' }),
      /--app "Notes API" is not an app name: .* --app notes-api/,
    );
    await assert.rejects(init({ dir: join(dir, 'missing') }), /is not a folder/);
  });

  it('--print prints the config and nothing else, and writes no file', async (t) => {
    const dir = project('printed', {
      'requirements.txt': 'pytest\n',
      'main.py': '',
      'tollgate.config.ts': '// an existing config stays untouched\n',
    });
    const chunks: string[] = [];
    mock.method(process.stdout, 'write', (chunk: string) => chunks.push(chunk) > 0);
    const out = quiet();
    t.after(() => mock.restoreAll());
    assert.equal(await init({ dir, print: true }), ExitCode.Ok);
    mock.restoreAll();
    assert.equal(out.lines(), '');
    assert.equal(chunks.join(''), renderConfig(detectProject(dir)));
    assert.equal(
      readFileSync(join(dir, 'tollgate.config.ts'), 'utf8'),
      '// an existing config stays untouched\n',
    );
    await assertSchema2(detectProject(dir));
  });
});
