/**
 * The contract between a stage plan and its containers, shared by the Dagger runner and the Dagger
 * module: the dependency install, the caches, the services and their env; the config's `services`
 * validation; and what the host runner does with services (nothing: the host provides them).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, resolveConfig } from '../../src/config/load.js';
import {
  cachePlan,
  containerEnv,
  installInputs,
  isInstallStep,
  runInGraphOrder,
  splitInstall,
} from '../../src/runners/dagger-plan.js';
import { HostRunner } from '../../src/runners/host.js';
import { stageContext, stripeStage } from '../support/dagger-fixtures.js';

const steps = (...commands: string[][]): { run: string[]; env: Record<string, string> }[] =>
  commands.map((run) => ({ run, env: {} }));
const NPM_CI = ['npm', 'ci', '--no-audit', '--no-fund', '--prefer-offline'];

/** The problems resolveConfig reports for a config whose test-stripe-integration stage has `services`. */
async function serviceProblems(services: unknown): Promise<{ path: string; message: string }[]> {
  const config = {
    app: 'saas-app',
    source: '.',
    stages: { 'test-stripe-integration': { steps: [['npm', 'run', 'test:stripe']], services } },
  };
  try {
    await resolveConfig(config, join(process.cwd(), 'tollgate.config.ts'));
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
}

void describe('stage plans as containers (contract)', () => {
  void it('installs from the lockfile, or hoists a leading install step, before the source arrives', () => {
    const files = ['package.json', 'package-lock.json'];
    const install = (commands: string[][], root = files): string[] | undefined =>
      splitInstall(steps(...commands), root).install;
    assert.deepEqual(install([['npm', 'test']]), NPM_CI);
    // quick-health-check: its own `npm install` becomes the install, so it too depends on the manifests only.
    const health = splitInstall(steps(['npm', 'install', '--no-audit'], ['npm', 'run', 'health']), files);
    assert.deepEqual(health, {
      install: ['npm', 'install', '--no-audit'],
      steps: steps(['npm', 'run', 'health']),
    });
    // An install after other steps stays where it is, and then nothing is added before it.
    const late = steps(['npm', 'run', 'lint'], ['npm', 'ci']);
    assert.deepEqual(splitInstall(late, files), { steps: late });
    // A leading install with env of its own stays a step: the shared prefix has no stage env.
    const withEnv = [{ run: ['npm', 'ci'], env: { NPM_CONFIG_PRODUCTION: 'false' } }];
    assert.deepEqual(splitInstall(withEnv, files), { steps: withEnv });
    assert.equal(install([['make']], ['Makefile']), undefined);
    assert.equal(
      install(
        [
          ['npm', 'ci'],
          ['npm', 'test'],
        ],
        ['Makefile'],
      ),
      undefined,
      'no manifest: no hoisting',
    );
    assert.deepEqual(install([['pnpm', 'test']], ['package.json', 'pnpm-lock.yaml']), [
      'pnpm',
      'install',
      '--frozen-lockfile',
    ]);
    assert.deepEqual(install([['yarn', 'test']], ['package.json', 'yarn.lock'])?.slice(0, 2), [
      'yarn',
      'install',
    ]);
    assert.deepEqual(install([['npm', 'test']], ['package.json'])?.slice(0, 2), ['npm', 'install']);
    assert.ok(
      isInstallStep(['yarn']) && isInstallStep(['npm', 'ci']) && !isInstallStep(['npm', 'run', 'ci']),
    );
    assert.deepEqual(installInputs(['src', '.npmrc', 'package-lock.json', 'package.json']), [
      'package-lock.json',
      'package.json',
      '.npmrc',
    ]);
  });

  void it("mounts the install's caches before it and the steps' other caches after it", () => {
    assert.deepEqual(cachePlan(NPM_CI, steps(['pnpm', 'test'])), {
      beforeInstall: [['/root/.npm', 'tollgate-npm']],
      afterInstall: [['/root/.local/share/pnpm/store', 'tollgate-pnpm']],
    });
    assert.deepEqual(cachePlan(undefined, steps(['npm', 'test'])), {
      beforeInstall: [['/root/.npm', 'tollgate-npm']],
      afterInstall: [],
    });
  });

  void it("gives the steps the services' env, the stage's own env winning", () => {
    const plan = stripeStage({ env: { LOG_LEVEL: 'warn' } });
    assert.deepEqual(containerEnv(plan), { STRIPE_MOCK_URL: 'http://stripe-mock:12111', LOG_LEVEL: 'warn' });
    const own = stripeStage({ env: { STRIPE_MOCK_URL: 'http://elsewhere:1' } });
    assert.equal(containerEnv(own)['STRIPE_MOCK_URL'], 'http://elsewhere:1');
  });

  void it('is the same code the Dagger module runs (dagger/src/dagger-plan.ts is a copy)', () => {
    const read = (path: string): string => readFileSync(join(process.cwd(), path), 'utf8');
    assert.equal(read('dagger/src/dagger-plan.ts'), read('src/runners/dagger-plan.ts'));
  });

  void it("dagger/plans.json holds the config's stage plans, services included (one list of commands)", async () => {
    const config = await loadConfig('tollgate.config.ts');
    const plans = JSON.parse(readFileSync(join(process.cwd(), 'dagger/plans.json'), 'utf8')) as {
      stages: unknown[];
    };
    // Until src/config/load.ts copies `services` into the plans, take them from the validated config.
    const expected = config.stages.map((plan) => {
      const services = config.raw.stages[plan.name]?.services;
      return services ? { ...plan, services } : plan;
    });
    assert.deepEqual(plans.stages, expected, 'regenerate with `tollgate plans > dagger/plans.json`');
    const stripe = expected.find((plan) => plan.name === 'test-stripe-integration');
    assert.equal(stripe?.services?.[0]?.image, 'stripe/stripe-mock:v0.203.0');
  });

  void it('validates services: pinned image, hostname, port, unique names, no inline secrets', async () => {
    const good = {
      name: 'stripe-mock',
      image: 'stripe/stripe-mock:v0.203.0',
      port: 12111,
      env: { STRIPE_MOCK_URL: 'http://stripe-mock:12111' },
    };
    assert.deepEqual(await serviceProblems([good]), []);
    assert.deepEqual(
      await serviceProblems([{ ...good, image: `stripe/stripe-mock@sha256:${'0'.repeat(64)}` }]),
      [],
    );
    const at = (problems: { path: string; message: string }[], path: string): string =>
      problems.find((p) => p.path === `stages.test-stripe-integration.services.${path}`)?.message ?? '';
    for (const image of ['stripe/stripe-mock', 'stripe/stripe-mock:latest', 'localhost:5000/mock']) {
      assert.match(
        at(await serviceProblems([{ ...good, image }]), '0.image'),
        /must be pinned to a tag or digest/,
      );
    }
    assert.match(
      at(await serviceProblems([{ ...good, name: 'Stripe_Mock' }]), '0.name'),
      /must be a hostname/,
    );
    assert.match(at(await serviceProblems([{ ...good, port: 0 }]), '0.port'), /port the service listens on/);
    assert.match(at(await serviceProblems([{ ...good, port: undefined }]), '0.port'), /is required/);
    assert.match(at(await serviceProblems([good, good]), '1.name'), /duplicates services\[0\]/);
    assert.match(
      at(
        await serviceProblems([{ ...good, env: { STRIPE_SECRET_KEY: 'sk_test_abc' } }]),
        '0.env.STRIPE_SECRET_KEY',
      ),
      /looks like a secret written inline/,
    );
    assert.match(at(await serviceProblems([{ ...good, volumes: [] }]), '0'), /has no key "volumes"/);
  });

  void it("the host runner ignores services: the stage keeps the host's own stripe-mock", async () => {
    const saved = process.env['STRIPE_MOCK_URL'];
    process.env['STRIPE_MOCK_URL'] = 'http://127.0.0.1:12111';
    try {
      const plan = stripeStage({
        steps: [{ run: ['sh', '-c', 'echo "stripe-mock at ${STRIPE_MOCK_URL:-unset}"'], env: {} }],
      });
      const result = await new HostRunner().runStage(plan, stageContext());
      assert.match(result.logTail, /stripe-mock at http:\/\/127\.0\.0\.1:12111/);
      assert.doesNotMatch(readFileSync(result.logPath, 'utf8'), /stripe-mock:12111/);
    } finally {
      if (saved === undefined) delete process.env['STRIPE_MOCK_URL'];
      else process.env['STRIPE_MOCK_URL'] = saved;
    }
  });
});

void describe("the module's full-ci-pipeline walks the config's stage graph (runInGraphOrder)", () => {
  /** A stage that finishes when the test says so, recording when it started. */
  const gated = () => {
    const events: string[] = [];
    const gates = new Map<string, () => void>();
    const run = (name: string): Promise<string> => {
      events.push(`start ${name}`);
      return new Promise((resolve) => gates.set(name, () => resolve(name)));
    };
    const finish = async (name: string): Promise<void> => {
      // Let everything the previous finish unblocked start first.
      for (let i = 0; i < 5 && !gates.has(name); i++) await new Promise((resolve) => setImmediate(resolve));
      assert.ok(gates.has(name), `${name} started (started: ${events.join(', ')})`);
      gates.get(name)!();
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    return { events, run, finish };
  };

  void it('starts each stage once its needs passed; independent stages run at the same time', async () => {
    const config = await loadConfig('tollgate.config.ts');
    const { events, run, finish } = gated();
    const walking = runInGraphOrder(config.stages, run);
    await finish('quick-health-check');
    await finish('test-suite');
    // The three revenue checks need only test-suite: all three are running, the build is not.
    const gates = ['test-stripe-integration', 'test-rag-engine', 'verify-revenue-metrics'];
    assert.deepEqual(events.slice(2).sort(), gates.map((name) => `start ${name}`).sort());
    await finish('test-rag-engine');
    await finish('verify-revenue-metrics');
    assert.ok(!events.includes('start build-production-image'), 'the build waits for all three');
    await finish('test-stripe-integration');
    await finish('build-production-image');
    assert.deepEqual(await walking, [
      'quick-health-check',
      'test-suite',
      'test-rag-engine',
      'verify-revenue-metrics',
      'test-stripe-integration',
      'build-production-image',
    ]);
    assert.equal(events.length, 6, 'every stage ran once');
  });

  void it('a failing stage fails the walk, and what needs it never starts', async () => {
    const started: string[] = [];
    const walk = runInGraphOrder(
      [
        { name: 'a', needs: [] },
        { name: 'b', needs: ['a'] },
        { name: 'c', needs: ['b'] },
      ],
      (name) => {
        started.push(name);
        return name === 'b' ? Promise.reject(new Error('b failed')) : Promise.resolve(name);
      },
    );
    await assert.rejects(walk, /b failed/);
    assert.deepEqual(started, ['a', 'b']);
  });
});
