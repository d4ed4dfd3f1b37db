/**
 * Bad input through the real `tollgate` CLI: every case must exit 2, name the field, show the
 * value it got and say how to fix it, and start nothing. TEMPORAL_ADDRESS points at a closed
 * port, so a command that got as far as connecting would exit 3 instead.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/index.js';

const CLI = fileURLToPath(new URL('../../src/client.js', import.meta.url));
const CONFIG_FILE = 'config.ts';

/** A config as the user writes it: plain data, so a case can change any part. */
type Config = Record<string, unknown> & { stages: Record<string, Record<string, unknown>> };

/** Valid on its own: `run` with it gets as far as connecting (exit 3), `stage test-suite` runs. */
function validConfig(): Config {
  return { app: 'demo', source: './app', runner: 'host', stages: { 'test-suite': { steps: [['true']] } } };
}

/** Environments that are valid together with `withBuild` and `approvers`. */
const ENVIRONMENTS = [
  { name: 'staging', port: 4100 },
  { name: 'production', port: 4101 },
];
const withBuild = (c: Config): void => {
  c.stages['build-production-image'] = { steps: [['true']], artifact: { include: ['dist'] } };
};
const approvers = (c: Config): void => {
  c.promotion = { mode: 'manual', approvers: ['ops@example.com'] };
};

interface BadInputCase {
  name: string;
  /** Turns the valid config into the bad one; or the raw file text; or null for no file at all. */
  config: ((config: Config) => void) | { file: string | null };
  /** CLI arguments after the config is written; `run -c <file>` by default. */
  args?: (configFile: string) => string[];
  /** The `  - <path>:` line stderr must hold; omitted for problems that are not a config field. */
  path?: string;
  /** The bad value as stderr shows it (on the path's line when `path` is given). */
  value?: string;
  /** The part of the message that says what to do. */
  fix: string;
  /** Config problems are counted in the heading; every case has exactly one unless it says otherwise. */
  problems?: number | null;
}

const run = (file: string): string[] => ['run', '-c', file];
const stage =
  (name: string) =>
  (file: string): string[] => ['stage', name, '-c', file];

const CASES: BadInputCase[] = [
  {
    name: 'unknown stage name',
    config: (c) => (c.stages['tset-suite'] = { steps: [['npm', 'test']] }),
    path: 'stages.tset-suite',
    fix: 'is not a Tollgate stage: use one of quick-health-check, test-suite',
  },
  {
    name: 'unknown stage name (stage command)',
    config: (c) => (c.stages['unit-tests'] = { steps: [['npm', 'test']] }),
    args: stage('unit-tests'),
    path: 'stages.unit-tests',
    fix: 'use one of quick-health-check',
  },
  {
    name: 'empty steps',
    config: (c) => (c.stages['test-suite']!.steps = []),
    path: 'stages.test-suite.steps',
    value: '[]',
    fix: 'e.g. steps: [["npm", "test"]]',
  },
  {
    name: 'negative timeout',
    config: (c) => (c.stages['test-suite']!.timeout = -5),
    path: 'stages.test-suite.timeout',
    value: '-5',
    fix: 'a string such as "30s", "10m", "1h"',
  },
  {
    name: 'timeout that is not a duration',
    config: (c) => (c.stages['test-suite']!.timeout = 'soon'),
    path: 'stages.test-suite.timeout',
    value: '"soon"',
    fix: 'a string such as "30s", "10m", "1h"',
  },
  {
    name: 'retry maximumAttempts 0',
    config: (c) => (c.stages['test-suite']!.retry = { maximumAttempts: 0 }),
    path: 'stages.test-suite.retry.maximumAttempts',
    value: '0',
    fix: 'use 3 to retry twice',
  },
  {
    name: 'duplicate environment name',
    config: (c) => {
      withBuild(c);
      approvers(c);
      c.environments = [
        { name: 'staging', port: 4100 },
        { name: 'production', port: 4101 },
        { name: 'staging', port: 4102 },
      ];
    },
    path: 'environments.2.name',
    value: '"staging"',
    fix: 'duplicates environments[0]: each environment needs its own name',
  },
  {
    name: 'two environments on one port',
    config: (c) => {
      withBuild(c);
      approvers(c);
      c.environments = [
        { name: 'staging', port: 4100 },
        { name: 'production', port: 4100 },
      ];
    },
    path: 'environments.1.port',
    value: '4100',
    fix: 'give each environment its own port',
  },
  {
    name: 'environment port below 1024',
    config: (c) => {
      withBuild(c);
      approvers(c);
      c.environments = [
        { name: 'staging', port: 80 },
        { name: 'production', port: 4101 },
      ];
    },
    path: 'environments.0.port',
    value: '80',
    fix: 'must be a free port from 1024 to 65535',
  },
  {
    name: 'secret value written inline in secrets',
    config: (c) => (c.stages['test-suite']!.secrets = ['sk_test_abc123']),
    path: 'stages.test-suite.secrets.0',
    value: '"sk_test_abc123"',
    fix: "export the secret in the worker's environment and list its name here",
  },
  {
    name: 'Stripe-key-looking value in env',
    config: (c) => (c.stages['test-suite']!.env = { NODE_ENV: 'test', STRIPE_API_KEY: 'sk_test_abc123' }),
    path: 'stages.test-suite.env.STRIPE_API_KEY',
    value: '"sk_test_abc123"',
    fix: `export STRIPE_API_KEY where the worker runs, and add "STRIPE_API_KEY" to the stage's secrets`,
  },
  {
    name: 'step given as a shell string',
    config: (c) => (c.stages['test-suite']!.steps = ['npm test']),
    path: 'stages.test-suite.steps.0',
    value: '"npm test"',
    fix: 'a step is an argv array such as ["npm", "test"]',
  },
  {
    name: 'step given as a shell string (stage command)',
    config: (c) => (c.stages['test-suite']!.steps = ['npm test']),
    args: stage('test-suite'),
    path: 'stages.test-suite.steps.0',
    value: '"npm test"',
    fix: 'a step is an argv array such as ["npm", "test"]',
  },
  {
    name: 'unknown runner',
    config: (c) => (c.runner = 'docker'),
    path: 'runner',
    value: '"docker"',
    fix: 'must be "auto", "host" or "dagger"',
  },
  {
    name: 'missing app',
    config: (c) => delete c.app,
    path: 'app',
    fix: 'is required: the name of the app this pipeline releases, e.g. "saas-app"',
  },
  {
    name: 'bad app name',
    config: (c) => (c.app = 'My_App'),
    path: 'app',
    value: '"My_App"',
    fix: 'must be 1-40 lower-case letters, digits and dashes',
  },
  {
    name: 'source dir that does not exist',
    config: (c) => (c.source = './no-such-dir'),
    path: 'source',
    value: '"./no-such-dir"',
    fix: "point it at the app's source, relative to the config file",
  },
  {
    name: 'unknown top-level key (typo)',
    config: (c) => (c.enviroments = ENVIRONMENTS),
    path: '(top level)',
    value: '"enviroments"',
    fix: 'check the spelling; the keys here are app, source, runner, defaults, stages, environments',
  },
  {
    name: 'unknown key in a stage (typo)',
    config: (c) => (c.stages['test-suite']!.timout = '5m'),
    path: 'stages.test-suite',
    value: '"timout"',
    fix: 'check the spelling; the keys here are image, steps, env, secrets, cache, timeout',
  },
  {
    name: 'coverageMinimum 150',
    config: (c) => (c.stages['test-suite']!.coverageMinimum = 150),
    path: 'stages.test-suite.coverageMinimum',
    value: '150',
    fix: 'is a percentage from 0 to 100',
  },
  {
    name: 'build stage without artifact',
    config: (c) => (c.stages['build-production-image'] = { steps: [['npm', 'run', 'build']] }),
    path: 'stages.build-production-image.artifact',
    fix: 'say what the release holds, e.g. { include: ["dist", "package.json", "package-lock.json"] }',
  },
  {
    name: 'environments without a build stage',
    config: (c) => {
      approvers(c);
      c.environments = ENVIRONMENTS;
    },
    path: 'stages.build-production-image',
    fix: 'add it with an artifact, or remove environments',
  },
  {
    name: 'manual promotion without approvers when environments exist',
    config: (c) => {
      withBuild(c);
      c.environments = ENVIRONMENTS;
      c.promotion = { mode: 'manual' };
    },
    path: 'promotion.approvers',
    fix: 'must name at least one approver when mode is "manual" (or set mode: "auto")',
  },
  {
    name: 'environments without production',
    config: (c) => {
      withBuild(c);
      approvers(c);
      c.environments = [
        { name: 'staging', port: 4100 },
        { name: 'prod', port: 4101 },
      ];
    },
    path: 'environments',
    value: '["staging","prod"]',
    fix: 'needs an environment named "production"',
  },
  {
    name: 'config file missing',
    config: { file: null },
    value: CONFIG_FILE,
    fix: 'create one with defineTollgate({...}) or pass --config <file>',
  },
  {
    name: 'config file missing (stage command)',
    config: { file: null },
    args: stage('test-suite'),
    value: CONFIG_FILE,
    fix: 'pass --config <file>',
  },
  {
    name: 'config file with a syntax error',
    config: { file: "export default { app: 'demo', source: \n" },
    value: `${CONFIG_FILE}:2`,
    fix: 'fix the file so it imports on its own',
  },
  {
    name: 'config file that throws on import',
    config: { file: "throw new Error('vault is sealed');\nexport default {};\n" },
    value: 'vault is sealed',
    fix: 'fix the file so it imports on its own',
  },
  {
    name: 'stage that is not configured',
    config: () => undefined,
    args: stage('nope'),
    value: 'no stage "nope"',
    fix: 'configured stages are test-suite',
    problems: null,
  },
  {
    name: 'run --until a stage that does not exist',
    config: () => undefined,
    args: (file) => [...run(file), '--until', 'nonsense'],
    value: '--until nonsense',
    fix: 'is not a stage: use one of build, tests, staging, quick-health-check',
    problems: null,
  },
  {
    name: 'unknown CLI option',
    config: () => undefined,
    args: (file) => [...run(file), '--frobnicate'],
    value: "unknown option '--frobnicate'",
    fix: 'Usage: tollgate run [options]',
    problems: null,
  },
  {
    name: 'stage without its name argument',
    config: () => undefined,
    args: (file) => ['stage', '-c', file],
    value: "missing required argument 'name'",
    fix: 'Usage: tollgate stage [options] <name>',
    problems: null,
  },
];

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temp dir holding the app's (real, empty) source dir and, unless `file` is null, the config. */
function writeWorkspace(t: TestContext, config: BadInputCase['config']): { dir: string; home: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'app'));
  let text: string | null;
  if (typeof config === 'function') {
    const value = validConfig();
    config(value);
    text = `export default ${JSON.stringify(value, null, 2)};\n`;
  } else {
    text = config.file;
  }
  if (text !== null) writeFileSync(join(dir, CONFIG_FILE), text);
  return { dir, home: join(dir, 'tollgate-home') };
}

/** Runs the built CLI in `cwd`; resolves with its exit code and output, never rejects on a non-zero exit. */
function tollgate(args: string[], cwd: string, home: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      TOLLGATE_HOME: home,
      NO_COLOR: '1',
    };
    delete env.TOLLGATE_RUNNER;
    delete env.TEMPORAL_CONFIG_FILE;
    delete env.TEMPORAL_PROFILE;
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function assertBadInput(c: BadInputCase, result: CliResult, home: string): void {
  const shown = `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
  assert.equal(result.code, 2, `expected exit 2 (bad input)\n${shown}`);
  if (c.path !== undefined) {
    const line = result.stderr.split('\n').find((l) => l.startsWith(`  - ${c.path}: `));
    assert.ok(line, `stderr names ${c.path}\n${shown}`);
    if (c.value !== undefined)
      assert.ok(line.includes(c.value), `the ${c.path} line shows ${c.value}\n${shown}`);
    assert.ok(line.includes(c.fix), `the ${c.path} line says how to fix it ("${c.fix}")\n${shown}`);
  } else {
    if (c.value !== undefined)
      assert.ok(result.stderr.includes(c.value), `stderr shows ${c.value}\n${shown}`);
    assert.ok(result.stderr.includes(c.fix), `stderr says how to fix it ("${c.fix}")\n${shown}`);
  }
  const problems = c.problems === undefined ? 1 : c.problems;
  if (problems !== null) {
    assert.ok(
      result.stderr.includes(
        `is invalid (${problems} problem${problems === 1 ? '' : 's'}); nothing was started`,
      ),
      `only the intended problem triggered\n${shown}`,
    );
  }
  // Nothing started: no "Started <workflow>" line, and no run directory or state written.
  assert.equal(result.stdout, '', `nothing on stdout\n${shown}`);
  assert.equal(existsSync(home), false, `TOLLGATE_HOME untouched\n${shown}`);
}

void test('the environment fixtures are valid together with a build stage and approvers', async (t) => {
  // The environment cases rely on this: with build + approvers, only their own mutation is wrong.
  const { dir } = writeWorkspace(t, (c) => {
    withBuild(c);
    approvers(c);
    c.environments = ENVIRONMENTS;
  });
  const config = await loadConfig(CONFIG_FILE, dir);
  assert.deepEqual(
    [config.delivery?.staging.port, config.delivery?.production.port],
    ENVIRONMENTS.map((e) => e.port),
  );
});

void describe(
  'bad input exits 2, names the field, the value and the fix, and starts nothing',
  { concurrency: availableParallelism() },
  () => {
    assert.ok(CASES.length >= 14);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
    // The control: the base config is valid, so run gets as far as the unreachable server (exit 3).
    // Started first, as its connect timeout makes it the slowest.
    void it('control: the base config gets as far as connecting, and exits 3', async (t) => {
      const { dir, home } = writeWorkspace(t, () => undefined);
      const result = await tollgate(run(join(dir, CONFIG_FILE)), dir, home);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1/);
    });
    for (const c of CASES) {
      void it(c.name, async (t) => {
        const { dir, home } = writeWorkspace(t, c.config);
        const args = (c.args ?? run)(join(dir, CONFIG_FILE));
        assertBadInput(c, await tollgate(args, dir, home), home);
      });
    }
  },
);
