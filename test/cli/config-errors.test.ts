/**
 * Bad input through the real `tollgate` CLI: every case must exit 2, name the field, show the
 * value it got and say how to fix it, and start nothing. TEMPORAL_ADDRESS points at a closed
 * port, so a command that got as far as connecting would exit 3 instead.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { fixtureRepo, gitIn } from '../support/stages.js';
import { PAYMENT_PROBES } from '../support/delivery.js';

const CLI = fileURLToPath(new URL('../../src/client.js', import.meta.url));
const CONFIG_FILE = 'config.ts';

/** A config as the user writes it: plain data, so a case can change any part. */
type Config = Record<string, unknown> & { stages: Record<string, Record<string, unknown>> };
/** An environment of the chain as the user writes it. */
type Link = Record<string, unknown>;

/** Valid on its own: `run` with it gets as far as connecting (exit 3), `stage test-suite` runs. */
function validConfig(): Config {
  return { app: 'demo', source: './app', runner: 'host', stages: { 'test-suite': { steps: [['true']] } } };
}

/** The stage whose artifact environments deploy. */
const withBuild = (c: Config): void => {
  c.stages['build-image'] = { steps: [['true']], artifact: { include: ['dist'] } };
};
const staging = (extra: Link = {}): Link => ({ name: 'staging', port: 4100, ...extra });
const production = (extra: Link = {}): Link => ({ name: 'production', port: 4101, ...extra });
/** The gate before the last environment of a chain is manual by default, so it needs approvers. */
const approved = (extra: Link = {}): Link => ({ promotion: { approvers: ['ops@example.com'] }, ...extra });
/** A build stage and `links` as the chain: valid together unless a link says otherwise. */
const withChain =
  (...links: Link[]) =>
  (c: Config): void => {
    withBuild(c);
    c.environments = links;
  };
/** staging then production, valid with `withBuild`. */
const CHAIN = (): Link[] => [staging(), production(approved())];

interface BadInputCase {
  name: string;
  /** Turns the valid config into the bad one; or the raw file text; or null for no file at all. */
  config: ((config: Config) => void) | { file: string | null };
  /** False: the workspace is not a git repository. By default it is one, with everything committed. */
  repo?: false;
  /** Runs in the workspace after the commit (uncommitted changes, more commits). */
  after?: (dir: string) => void;
  /** CLI arguments after the config is written; `run -c <file>` by default. */
  args?: (configFile: string) => string[];
  /** More environment for the CLI (the secrets a stage names). */
  env?: Record<string, string>;
  /** Must not appear anywhere in the output (a secret's value). */
  hidden?: string;
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
    name: 'stage name that is not kebab-case',
    config: (c) => (c.stages['Test_Suite'] = { steps: [['npm', 'test']] }),
    path: 'stages.Test_Suite',
    fix: 'is not a stage name: use lower-case letters, digits and dashes, e.g. "test-suite"',
  },
  {
    name: 'stage name that is not kebab-case (stage command)',
    config: (c) => (c.stages['unitTests'] = { steps: [['npm', 'test']] }),
    args: stage('unitTests'),
    path: 'stages.unitTests',
    fix: 'use lower-case letters, digits and dashes',
  },
  {
    name: 'needs naming no stage',
    config: (c) => (c.stages['lint'] = { needs: ['tset-suite'], steps: [['true']] }),
    path: 'stages.lint.needs.0',
    value: '"tset-suite"',
    fix: 'names no stage: "tset-suite" is not one of "test-suite", "lint"; fix the name or remove it',
  },
  {
    name: 'a stage that needs itself',
    config: (c) => (c.stages['test-suite']!.needs = ['test-suite']),
    path: 'stages.test-suite.needs.0',
    value: '"test-suite"',
    fix: 'a stage cannot wait for itself; remove "test-suite" from needs',
  },
  {
    name: 'a cycle of needs',
    config: (c) => {
      c.stages['a'] = { needs: ['b'], steps: [['true']] };
      c.stages['b'] = { needs: ['c'], steps: [['true']] };
      c.stages['c'] = { needs: ['a'], steps: [['true']] };
    },
    path: 'stages.a.needs',
    value: '["b"]',
    fix: 'is part of a cycle: a → b → c → a; remove one of these needs so the stages can start',
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
    config: withChain(staging(), production(), staging({ port: 4102, ...approved() })),
    path: 'environments.2.name',
    value: '"staging"',
    fix: 'duplicates environments[0]: each environment needs its own name',
  },
  {
    name: 'two environments on one port',
    config: withChain(staging(), production(approved({ port: 4100 }))),
    path: 'environments.1.port',
    value: '4100',
    fix: 'give each environment its own port',
  },
  {
    name: 'environment port below 1024',
    config: withChain(staging({ port: 80 }), production(approved())),
    path: 'environments.0.port',
    value: '80',
    fix: 'must be a free port from 1024 to 65535',
  },
  {
    name: 'an environment driver that does not exist',
    config: withChain(staging({ driver: 'kubernetes' }), production(approved())),
    path: 'environments.0.driver',
    value: '"kubernetes"',
    fix: 'is "local" (host processes) or "docker" (containers)',
  },
  {
    name: 'docker settings on a local environment',
    config: withChain(staging({ docker: { memory: 256 } }), production(approved())),
    path: 'environments.0.docker',
    value: '{"memory":256}',
    fix: 'set driver: "docker" too, or remove the block',
  },
  {
    name: 'a docker engine address that is neither a socket nor tcp',
    config: withChain(
      staging(),
      production(approved({ driver: 'docker', docker: { engine: 'docker.sock' } })),
    ),
    path: 'environments.1.docker.engine',
    value: '"docker.sock"',
    fix: 'is the engine\'s address: "unix:///var/run/docker.sock" or "tcp://127.0.0.1:2375"',
  },
  {
    name: 'a docker base image not pinned to a tag',
    config: withChain(staging(), production(approved({ driver: 'docker', docker: { baseImage: 'node' } }))),
    path: 'environments.1.docker.baseImage',
    value: '"node"',
    fix: 'must be pinned to a tag or digest',
  },
  {
    name: 'a docker registry with a tag (Tollgate tags and pins each release)',
    config: withChain(
      staging(),
      production(approved({ driver: 'docker', docker: { registry: '127.0.0.1:5000/saas-app:prod' } })),
    ),
    path: 'environments.1.docker.registry',
    value: '"127.0.0.1:5000/saas-app:prod"',
    fix: 'without tag or digest, e.g. "127.0.0.1:5000/saas-app"',
  },
  {
    name: 'two docker environments pulling from different registries',
    config: withChain(
      staging({ driver: 'docker', docker: { registry: '127.0.0.1:5000/saas-app' } }),
      production(approved({ driver: 'docker', docker: { registry: '127.0.0.1:5001/saas-app' } })),
    ),
    path: 'environments.1.docker.registry',
    value: '"127.0.0.1:5001/saas-app"',
    fix: 'differs from environments[0].docker.registry ("127.0.0.1:5000/saas-app")',
  },
  {
    name: 'environment name that is not kebab-case',
    config: withChain(staging({ name: 'Staging' }), production(approved())),
    path: 'environments.0.name',
    value: '"Staging"',
    fix: 'must be lower-case letters, digits and dashes, e.g. "staging"',
  },
  {
    name: 'two stages with an artifact when environments exist',
    config: (c) => {
      withChain(...CHAIN())(c);
      c.stages['package-docs'] = { steps: [['true']], artifact: { include: ['docs'] } };
    },
    path: 'stages.package-docs.artifact',
    fix: 'is the second artifact (stage build-image has one): environments deploy one artifact, so keep it on one stage',
  },
  {
    name: 'environments without any artifact stage',
    config: (c) => (c.environments = CHAIN()),
    path: 'stages',
    fix: 'needs a stage with an artifact when environments are configured (the artifact is what they deploy): add artifact: { include: [...] } to your build stage, or remove environments',
  },
  {
    name: "a stage named like an environment's own step",
    config: (c) => {
      withChain(...CHAIN())(c);
      c.stages['deploy-to-staging'] = { steps: [['true']] };
    },
    path: 'stages.deploy-to-staging',
    fix: "is the name of environment staging's own step: rename the stage",
  },
  {
    name: 'a manual gate without approvers',
    config: withChain(staging({ promotion: { mode: 'manual' } }), production(approved())),
    path: 'environments.0.promotion.approvers',
    fix: 'must name at least one approver: the gate before staging is manual; or set promotion: { mode: "auto" }',
  },
  {
    name: 'the default manual gate before the last environment, without approvers',
    config: withChain(staging(), production()),
    path: 'environments.1.promotion.approvers',
    fix: 'must name at least one approver: the gate before production is manual (the default for the last environment of the chain); or set promotion: { mode: "auto" }',
  },
  {
    name: 'signed smoke events without a revenue block',
    config: withChain(
      staging({ smoke: { routes: ['/api/notes'], revenueEvents: true } }),
      production(approved()),
    ),
    path: 'environments.0.smoke.revenueEvents',
    value: 'true',
    fix: 'needs a revenue block (revenue: { webhookPath, revenuePath, webhookSecret }): add one, or drop revenueEvents',
  },
  {
    name: 'a verification window with more samples than a history should hold',
    config: withChain(
      staging(),
      production(approved({ verification: { duration: '24h', interval: '10s' } })),
    ),
    path: 'environments.1.verification.interval',
    value: '"10s"',
    fix: "takes 8640 samples in the 86400000 ms window, each about 11 events of the release's history; at most 500 keep it far from Temporal's limits: make the interval at least 172800 ms, or verify a long window as a canary (its window continues as new)",
  },
  {
    name: 'a verification interval longer than its duration',
    config: withChain(
      staging(),
      production(approved({ verification: { duration: '10s', interval: '30s' } })),
    ),
    path: 'environments.1.verification.interval',
    value: '"30s"',
    fix: "is longer than the window's duration (10000 ms), so no sample would be taken: make the interval shorter than the duration",
  },
  {
    name: 'canary weights that do not rise',
    config: withChain(staging(), production(approved({ canary: { steps: [25, 5, 50] } }))),
    path: 'environments.1.canary.steps.1',
    value: '5',
    fix: 'is not above the step before it (25): weights rise, e.g. [5, 25, 50]',
  },
  {
    name: 'a canary alpha that is not a probability',
    config: withChain(staging(), production(approved({ canary: { steps: [10], alpha: 5 } }))),
    path: 'environments.1.canary.alpha',
    value: '5',
    fix: 'is a probability between 0 and 1, e.g. 0.01',
  },
  {
    name: 'a canary onInconclusive that is no action',
    config: withChain(staging(), production(approved({ canary: { steps: [10], onInconclusive: 'ignore' } }))),
    path: 'environments.1.canary.onInconclusive',
    value: '"ignore"',
    fix: 'must be "extend" (one more step duration), "rollback" or "pause" (wait for promote or rollback)',
  },
  {
    name: 'payment probes without a revenue block or checkout path',
    config: withChain(
      staging(),
      production(approved({ canary: { steps: [10], probes: { rate: 10, payments: { rate: 2 } } } })),
    ),
    path: 'environments.1.canary.probes.payments',
    value: '{"rate":2}',
    fix: 'needs a revenue block (revenue: { webhookPath, revenuePath, webhookSecret, stripeKeySecret }) and canary.checkoutPath (where the app takes checkouts, e.g. "/api/checkout"): add them, or drop payments',
  },
  {
    name: 'payment probes where the environment does not hand its releases the Stripe key',
    config: (c) => {
      withChain(
        staging(),
        production(
          approved({
            canary: {
              steps: [10],
              checkoutPath: '/api/checkout',
              probes: { rate: 10, payments: { rate: 2 } },
            },
          }),
        ),
      )(c);
      c.revenue = { webhookPath: '/webhooks/stripe' };
    },
    path: 'environments.1.canary.probes.payments',
    value: '{"rate":2}',
    fix: 'needs "STRIPE_SECRET_KEY" (revenue.stripeKeySecret) among this environment\'s secrets: payment probes run only where Tollgate hands the releases their Stripe key and can see it is a test key; add it to secrets, or drop payments',
  },
  {
    name: 'a load test longer than ten minutes',
    config: withChain(staging({ loadTest: { rate: 50, duration: '1h' } }), production(approved())),
    path: 'environments.0.loadTest.duration',
    value: '"1h"',
    fix: 'is at most 10 minutes: a load test gates a promotion, it is no soak test',
  },
  {
    name: 'health.stage naming no stage',
    config: (c) => (c.health = { stage: 'quick-health-chek' }),
    path: 'health.stage',
    value: '"quick-health-chek"',
    fix: 'names no stage: use one of "test-suite"',
  },
  {
    name: 'top-level promotion (schema 1)',
    config: (c) => {
      withChain(...CHAIN())(c);
      c.promotion = { mode: 'manual', approvers: ['ops@example.com'] };
    },
    path: 'promotion',
    fix: 'moved into the environment it guards: write environments[i].promotion',
  },
  {
    name: 'top-level smoke (schema 1)',
    config: (c) => {
      withChain(...CHAIN())(c);
      c.smoke = { routes: ['/api/notes'] };
    },
    path: 'smoke',
    fix: 'moved into each environment: write environments[i].smoke: { routes: [...] }',
  },
  {
    name: 'top-level verification (schema 1)',
    config: (c) => {
      withChain(...CHAIN())(c);
      c.verification = { duration: '1m' };
    },
    path: 'verification',
    fix: 'moved into each environment: write environments[i].verification',
  },
  {
    name: 'health.stripeKeySecret (schema 1)',
    config: (c) => (c.health = { stripeKeySecret: 'STRIPE_SECRET_KEY' }),
    path: 'health.stripeKeySecret',
    fix: 'moved to revenue.stripeKeySecret',
  },
  {
    name: 'secret value written inline in secrets',
    config: (c) => (c.stages['test-suite']!.secrets = ['sk_test_abc123']),
    path: 'stages.test-suite.secrets.0',
    // Too short to show any of it: the kind alone.
    value: '"sk_test_…"',
    hidden: 'abc123',
    fix: "export the secret in the worker's environment and list its name here",
  },
  {
    name: 'Stripe-key-looking value in env',
    config: (c) => (c.stages['test-suite']!.env = { NODE_ENV: 'test', STRIPE_API_KEY: 'sk_test_abc123' }),
    path: 'stages.test-suite.env.STRIPE_API_KEY',
    value: '"sk_test_…"',
    hidden: 'abc123',
    fix: `export STRIPE_API_KEY where the worker runs, and add "STRIPE_API_KEY" to the stage's secrets`,
  },
  {
    name: "live Stripe key pasted into a stage's env",
    config: (c) => (c.stages['test-suite']!.env = { STRIPE_SECRET_KEY: 'sk_live_pasted000000009f3a' }),
    path: 'stages.test-suite.env.STRIPE_SECRET_KEY',
    value: '"sk_live_…9f3a"',
    fix: 'looks like a secret written inline: remove it from env',
    hidden: 'pasted00000',
  },
  {
    name: "a live key pasted into an environment's secrets is masked: its kind and last four characters",
    config: withChain(staging({ secrets: ['sk_live_51HxPastedIntoConfig9f3a'] }), production(approved())),
    path: 'environments.0.secrets.0',
    value: '"sk_live_…9f3a"',
    fix: "export the secret in the worker's environment and list its name here",
    hidden: '51HxPastedIntoConfig',
  },
  {
    // The guard covers every command stage, not only those named like tests: live keys belong to environments.
    name: 'a live Stripe key in the secrets of a command stage (stage command)',
    config: (c) => (c.stages['package'] = { steps: [['true']], secrets: ['STRIPE_SECRET_KEY'] }),
    env: { STRIPE_SECRET_KEY: 'sk_live_fromtheworker000000' },
    args: stage('package'),
    value: 'package refused a live Stripe key in STRIPE_SECRET_KEY',
    fix: 'command stages accept only sk_test_/rk_test_ keys or stripe-mock',
    hidden: 'sk_live_fromtheworker000000',
    problems: null,
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
    fix: 'is not a folder of the repository',
  },
  {
    name: 'config outside any git repository',
    config: () => undefined,
    repo: false,
    path: 'source',
    value: '"./app"',
    fix: 'is not inside a git repository, and Tollgate releases commits: run `git init && git add -A && git commit -m "first commit"` there, or set repository',
  },
  {
    name: 'repository that is not a git repository',
    config: (c) => (c.repository = './no-such-clone'),
    path: 'repository',
    value: '"./no-such-clone"',
    fix: "is not a git repository: give the app's repository as a URL or a path to a clone",
  },
  {
    name: 'unknown top-level key (typo)',
    config: (c) => (c.enviroments = CHAIN()),
    path: '(top level)',
    value: '"enviroments"',
    fix: 'check the spelling; the keys here are app, repository, source, runner, defaults, images, dependencies, stages, environments',
  },
  {
    name: 'unknown key in a stage (typo)',
    config: (c) => (c.stages['test-suite']!.timout = '5m'),
    path: 'stages.test-suite',
    value: '"timout"',
    fix: 'check the spelling; the keys here are needs, image, steps, env, secrets, cache, timeout',
  },
  {
    name: 'coverageMinimum 150',
    config: (c) => (c.stages['test-suite']!.coverageMinimum = 150),
    path: 'stages.test-suite.coverageMinimum',
    value: '150',
    fix: 'is a percentage from 0 to 100',
  },
  {
    name: 'config file missing',
    config: { file: null },
    value: CONFIG_FILE,
    fix: 'defineTollgate({...})), or pass --config <file>',
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
    name: 'run --ref naming no commit',
    config: () => undefined,
    args: (file) => [...run(file), '--ref', 'no-such-branch'],
    value: '--ref no-such-branch is not a commit in',
    fix: 'give a branch, a tag or a commit SHA that exists there',
    problems: null,
  },
  {
    name: 'run with uncommitted changes in the app folder',
    config: () => undefined,
    after: (dir) => writeFileSync(join(dir, 'app', 'wip.ts'), 'export {};\n'),
    value: 'uncommitted changes in app (1 file: app/wip.ts)',
    fix: 'commit them, or run again with --allow-dirty to release the working tree as it is',
    problems: null,
  },
  {
    name: 'run --allow-dirty with a --ref that is not the working tree',
    config: () => undefined,
    after: (dir) => gitIn(dir, 'commit', '--quiet', '--allow-empty', '-m', 'second'),
    args: (file) => [...run(file), '--allow-dirty', '--ref', 'HEAD~1'],
    value: '--allow-dirty releases the working tree, which is at',
    fix: 'drop one of them',
    problems: null,
  },
  {
    name: 'run --repository that is not a git repository',
    config: () => undefined,
    args: (file) => [...run(file), '--repository', join(dirname(file), 'nowhere')],
    value: 'is not a git repository',
    fix: "give the app's repository as a URL or a path to a clone",
    problems: null,
  },
  {
    name: 'run --until naming neither a stage nor an environment',
    config: withChain(...CHAIN()),
    args: (file) => [...run(file), '--until', 'nonsense'],
    value: '--until nonsense is neither a stage nor an environment of demo',
    fix: 'use one of test-suite, build-image, staging, production, build',
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

/**
 * A temp dir holding the app's (real, empty) source dir and, unless `file` is null, the config;
 * a git repository with all of it committed unless `repo` is false.
 */
function writeWorkspace(
  t: TestContext,
  config: BadInputCase['config'],
  options: Pick<BadInputCase, 'repo' | 'after'> = {},
): { dir: string; home: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let text: string | null;
  if (typeof config === 'function') {
    const value = validConfig();
    config(value);
    text = `export default ${JSON.stringify(value, null, 2)};\n`;
  } else {
    text = config.file;
  }
  const files: Record<string, string> = {
    'app/.keep': '',
    ...(text === null ? {} : { [CONFIG_FILE]: text }),
  };
  if (options.repo === false) {
    mkdirSync(join(dir, 'app'));
    for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  } else {
    fixtureRepo(dir, files);
  }
  options.after?.(dir);
  return { dir, home: join(dir, 'tollgate-home') };
}

/** Runs the built CLI in `cwd`; resolves with its exit code and output, never rejects on a non-zero exit. */
function tollgate(
  args: string[],
  cwd: string,
  home: string,
  extraEnv: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      TOLLGATE_HOME: home,
      NO_COLOR: '1',
      // git stops at the temp dir: a repository around it (a checkout under /tmp) cannot answer for it.
      GIT_CEILING_DIRECTORIES: dirname(cwd),
    };
    for (const name of ['TOLLGATE_RUNNER', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE', 'GITHUB_SHA']) {
      delete env[name];
    }
    Object.assign(env, extraEnv);
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
  if (c.hidden !== undefined) {
    assert.ok(
      !`${result.stdout}${result.stderr}`.includes(c.hidden),
      `the output does not show ${c.hidden}\n${shown}`,
    );
  }
  // Nothing started: no "Started <workflow>" line, and no run directory or state written.
  assert.equal(result.stdout, '', `nothing on stdout\n${shown}`);
  assert.equal(existsSync(home), false, `TOLLGATE_HOME untouched\n${shown}`);
}

/** Every schema 2 part at once: needs, a chain of three, smoke and verification per link, revenue. */
function fullConfig(c: Config): void {
  c.stages['lint'] = { needs: [], steps: [['true']] };
  c.stages['build-image'] = {
    needs: ['test-suite', 'lint'],
    steps: [['true']],
    artifact: { include: ['dist'] },
  };
  c.environments = [
    { name: 'qa', port: 4100, smoke: { routes: ['/api/notes'] } },
    { name: 'staging', port: 4101, smoke: { routes: ['/api/notes'], revenueEvents: true } },
    {
      name: 'prod',
      port: 4102,
      secrets: ['STRIPE_SECRET_KEY'],
      promotion: { approvers: ['ops@example.com'], timeout: '30m' },
      verification: { duration: '5m', interval: '10s', maxErrorRate: 0.01, maxP95LatencyMs: 800 },
      canary: {
        steps: [5, 25, 50, 100],
        stepDuration: '2m',
        sticky: { header: 'x-customer-id' },
        detectableRatio: { errors: 3 },
        checkoutPath: '/api/checkout',
        probes: { rate: 20, payments: { rate: 2 } },
      },
    },
  ];
  c.revenue = { webhookPath: '/webhooks/stripe' };
  c.health = { stage: 'test-suite', revenueMaxAge: '24h' };
}

void test('the chain fixtures are valid with a build stage, and resolve to a chain in order', async (t) => {
  // The environment cases rely on this: with build + an approver before production, only their own mutation is wrong.
  const { dir } = writeWorkspace(t, withChain(...CHAIN()));
  const config = await loadConfig(CONFIG_FILE, dir);
  assert.deepEqual(
    config.environments.map((l) => [
      l.environment.app,
      l.environment.name,
      l.environment.port,
      l.promotion.mode,
    ]),
    [
      ['demo', 'staging', 4100, 'auto'],
      ['demo', 'production', 4101, 'manual'],
    ],
    'the gate before the last link is manual by default, the others auto',
  );
  const top = realpathSync(dir);
  assert.deepEqual(config.location, { repository: top, subdir: 'app', local: { dir: top, worktree: true } });
  assert.deepEqual(
    config.stages.map((s) => [s.name, s.needs]),
    [
      ['test-suite', []],
      ['build-image', ['test-suite']],
    ],
    'an omitted needs is the stage declared before',
  );
});

void test('a full schema 2 config resolves: free names, needs, any chain, revenue', async (t) => {
  const { dir } = writeWorkspace(t, fullConfig);
  const config = await loadConfig(CONFIG_FILE, dir);
  assert.deepEqual(
    config.stages.map((s) => [s.name, s.needs]),
    [
      ['test-suite', []],
      ['lint', []],
      ['build-image', ['test-suite', 'lint']],
    ],
  );
  assert.deepEqual(
    config.environments.map((l) => [l.environment.name, l.promotion.mode, l.smoke?.revenueEvents ?? null]),
    [
      ['qa', 'auto', true],
      ['staging', 'auto', true],
      ['prod', 'manual', null],
    ],
    'with a revenue block, smoke tests send the signed events unless they say otherwise',
  );
  assert.equal(config.environments[2]?.verification?.intervalMs, 10_000);
  const canary = config.environments[2]?.canary;
  assert.deepEqual(canary?.steps, [5, 25, 50], 'the 100 % step is the switch itself');
  assert.equal(canary?.stepMinMs, 120_000);
  assert.equal(canary?.stepMaxMs, 600_000, 'a step lasts at most five step durations by default');
  assert.deepEqual(canary?.sticky, { header: 'x-customer-id' });
  assert.equal(canary?.verdict.alpha, 0.01);
  assert.equal(canary?.verdict.onInconclusive, 'pause');
  assert.deepEqual(canary?.verdict.detectableRatio, { errors: 3, latency: 2, failedPayments: 2 });
  assert.equal(canary?.verdict.revenue, true, 'a checkout path adds the payment checks');
  assert.deepEqual(
    canary?.probes?.payments,
    PAYMENT_PROBES,
    'payment probes take the revenue block secrets by name',
  );
  assert.equal(canary?.eventsPerRun, 2000);
  assert.deepEqual(config.rollbackBrake, { limit: 3, windowMs: 86_400_000 }, 'the brake is on by default');
  assert.equal(config.revenue?.stripeKeySecret, 'STRIPE_SECRET_KEY');
  assert.equal(config.health.stage, 'test-suite');
});

void describe(
  'bad input exits 2, names the field, the value and the fix, and starts nothing',
  { concurrency: availableParallelism() },
  () => {
    assert.ok(CASES.length >= 14);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
    // The controls: valid configs and arguments get as far as the unreachable server (exit 3).
    // Started first, as their connect timeout makes them the slowest.
    const controls: { name: string; config: (c: Config) => void; args: (file: string) => string[] }[] = [
      { name: 'the base config', config: () => undefined, args: run },
      {
        name: 'a full schema 2 config with --until build (the artifact stage)',
        config: fullConfig,
        args: (file) => [...run(file), '--until', 'build'],
      },
    ];
    for (const control of controls) {
      void it(`control: ${control.name} gets as far as connecting, and exits 3`, async (t) => {
        const { dir, home } = writeWorkspace(t, control.config);
        const result = await tollgate(control.args(join(dir, CONFIG_FILE)), dir, home);
        assert.equal(result.code, 3, result.stderr);
        assert.match(result.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1/);
      });
    }
    for (const c of CASES) {
      void it(c.name, async (t) => {
        const { dir, home } = writeWorkspace(t, c.config, c);
        const args = (c.args ?? run)(join(dir, CONFIG_FILE));
        assertBadInput(c, await tollgate(args, dir, home, c.env), home);
      });
    }
  },
);
