/**
 * The real-engine lane (`scripts/test --dagger`): the Dagger runner against whatever engine the
 * Dagger CLI reaches (`_EXPERIMENTAL_DAGGER_CLI_BIN`, `_EXPERIMENTAL_DAGGER_RUNNER_HOST`, or
 * `dagger` on PATH), never a fake. It runs the sample's stages one by one, a retry that fails and
 * then passes, a missing image, an unreachable engine, and one whole `runner: dagger` release to
 * production, and prints what each cost. Without an engine that answers it says so and runs nothing:
 * its tests are reported as skipped, never as passed. CI here has no engine (no registry serves
 * one); the contract tests in test/contract stand in for it there.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/load.js';
import { FailureType } from '../../src/failures.js';
import { DaggerRunner } from '../../src/runners/dagger.js';
import { askEngine, prepareEngine } from '../../src/runners/dagger-session.js';
import { StageError } from '../../src/runners/errors.js';
import { HostRunner } from '../../src/runners/host.js';
import type { Runner, StageRunContext } from '../../src/runners/types.js';
import type { StagePlan } from '../../src/types.js';
import { Scenario } from '../e2e/cli.js';
import { alive } from '../support/fake-dagger-cli.js';
import { APP_DIR, buildSampleApp } from '../support/delivery.js';
import { startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

const engine = prepareEngine();
const answer =
  typeof engine === 'string' ? { ok: false, detail: engine, ms: 0 } : await askEngine(engine, 60_000);
const skip = answer.ok
  ? false
  : `no Dagger engine answered (${answer.detail}): the real-engine lane did not run`;
if (skip) console.log(`# ${skip}`);
else console.log(`# engine: ${answer.detail} in ${(answer.ms / 1000).toFixed(1)}s`);

/** A copy of the sample app without node_modules (the source a release would check out). */
function sampleSource(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tollgate-lane-')), 'saas-app');
  cpSync(APP_DIR, dir, {
    recursive: true,
    filter: (from) => !/\/(node_modules|dist|\.tollgate)(\/|$)/.test(from),
  });
  return dir;
}

function context(sourceDir: string, runId: string, attempt = 1): StageRunContext {
  return {
    runId,
    attempt,
    sourceDir,
    runDir: join(tempDir('lane-run'), runId, String(attempt)),
    secrets: {},
    signal: new AbortController().signal,
  };
}

/** Runs a stage and returns its wall time in seconds (a figure to print, never asserted). */
async function timed(runner: Runner, plan: StagePlan, ctx: StageRunContext): Promise<number> {
  const started = performance.now();
  const result = await runner.runStage(plan, ctx);
  assert.equal(result.exitCode, 0, `${plan.name}: ${result.summary}`);
  return (performance.now() - started) / 1000;
}

const seconds = (value: number): string => `${value.toFixed(1)} s`;

describe('Dagger on a real engine (lane)', { skip }, () => {
  let stages: StagePlan[] = [];
  const figures: string[] = [];
  before(async () => {
    stages = (await loadConfig('tollgate.config.ts')).stages;
  });
  after(() => {
    for (const line of figures) console.log(`# ${line}`);
  });
  const stage = (name: string): StagePlan => {
    const plan = stages.find((s) => s.name === name);
    assert.ok(plan, name);
    return plan;
  };

  it("runs each of the sample's stages, and prices cold, again, and after a one-line change", async () => {
    const source = sampleSource();
    const dagger = new DaggerRunner();
    for (const plan of stages) {
      const cold = await timed(dagger, plan, context(source, `lane-cold-${plan.name}`));
      figures.push(`dagger ${plan.name}: first run ${seconds(cold)}`);
    }
    const testSuite = stage('test-suite');
    const again = await timed(dagger, testSuite, context(source, 'lane-again'));
    writeFileSync(join(source, 'src', 'lane-change.js'), `export const changedAt = ${Date.now()};\n`);
    const changed = await timed(dagger, testSuite, context(source, 'lane-changed'));
    figures.push(`dagger test-suite: again ${seconds(again)}, after a one-line change ${seconds(changed)}`);

    await buildSampleApp(); // the host runner works in the app's folder, with node_modules restored
    const host = new HostRunner();
    const hostRun = await timed(host, testSuite, context(APP_DIR, 'lane-host'));
    figures.push(`host test-suite: ${seconds(hostRun)} (node_modules already installed)`);
  });

  it('runs a failed step again on the retry (no cached failure), and passes', async () => {
    const { coverageMinimum: _gate, ...testSuite } = stage('test-suite'); // no coverage gate here
    const plan: StagePlan = {
      ...testSuite,
      name: 'lane-retry',
      steps: [
        {
          run: ['sh', '-c', 'date +%s%N; case "$TOLLGATE_ATTEMPT" in */1/*) exit 75;; esac'],
          env: {},
        },
      ],
      retryableExitCodes: [75],
    };
    const source = sampleSource();
    const runner = new DaggerRunner();
    const first = await runner.runStage(plan, context(source, 'lane-retry', 1)).then(
      () => assert.fail('attempt 1 passed'),
      (error: unknown) => error,
    );
    assert.ok(first instanceof StageError);
    assert.equal(first.type, FailureType.StepInterrupted);
    const second = await runner.runStage(plan, context(source, 'lane-retry', 2));
    const stamp = (text: string): string | undefined => /^(\d{12,})$/m.exec(text)?.[1];
    const [one, two] = [stamp(first.logTail), stamp(readFileSync(second.logPath, 'utf8'))];
    assert.ok(one && two, `timestamps in both logs: ${one} ${two}`);
    assert.notEqual(one, two, 'attempt 2 ran the step; it did not get attempt 1 back from the cache');
  });

  it('fails at once with ImageNotFound for an image that does not exist', async () => {
    const plan = { ...stage('test-rag-engine'), image: 'tollgate-lane/no-such-image:1' };
    const started = performance.now();
    const error = await new DaggerRunner().runStage(plan, context(sampleSource(), 'lane-missing')).then(
      () => assert.fail('the stage passed'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StageError);
    assert.equal(error.type, FailureType.ImageNotFound, error.message);
    assert.match(error.message, /tollgate-lane\/no-such-image:1 \(stages\.test-rag-engine\.image/);
    figures.push(`missing image: ImageNotFound after ${seconds((performance.now() - started) / 1000)}`);
  });

  it('gives up on an engine that does not exist within the connect deadline, and leaves no CLI behind', async () => {
    const saved = process.env['_EXPERIMENTAL_DAGGER_RUNNER_HOST'];
    process.env['_EXPERIMENTAL_DAGGER_RUNNER_HOST'] = 'docker-container://tollgate-lane-no-such-engine';
    try {
      const before = cliProcesses();
      const started = performance.now();
      const error = await new DaggerRunner({ connectTimeoutMs: 15_000 })
        .runStage(stage('test-rag-engine'), context(sampleSource(), 'lane-unreachable'))
        .then(
          () => assert.fail('the stage passed'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof StageError);
      assert.equal(error.type, FailureType.EngineUnavailable, error.message);
      figures.push(
        `unreachable engine: EngineUnavailable after ${seconds((performance.now() - started) / 1000)} (${error.message.slice(0, 160)})`,
      );
      const left = cliProcesses().filter((pid) => !before.includes(pid) && alive(pid));
      assert.deepEqual(left, [], 'no dagger session process is left');
    } finally {
      if (saved === undefined) delete process.env['_EXPERIMENTAL_DAGGER_RUNNER_HOST'];
      else process.env['_EXPERIMENTAL_DAGGER_RUNNER_HOST'] = saved;
    }
  });

  describe('one whole release', () => {
    let env: TestWorkflowEnvironment;
    let scenario: Scenario | undefined;
    before(async () => {
      await buildSampleApp();
      env = await startTestServer();
    });
    after(async () => {
      await scenario?.stop();
      await env?.teardown();
    });

    it('takes a runner: dagger release of the sample to production', async () => {
      scenario = new Scenario(env, tempDir('lane-release'), uniqueIds('lane-release').taskQueue);
      await scenario.init(
        { fullStages: true, promotion: 'auto', verification: '4s', containers: true },
        'lane1',
      );
      scenario.startWorker({ TOLLGATE_RUNNER: 'dagger' });
      const started = performance.now();
      const run = await scenario.cliWith(
        { TOLLGATE_RUNNER: 'dagger' },
        'run',
        '-c',
        scenario.configPath,
        '--wait',
        '--ref',
        'lane1',
      );
      const took = (performance.now() - started) / 1000;
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /production/);
      assert.ok(
        (await scenario.serving('production'))?.startsWith('saas-app-'),
        'production serves the release',
      );
      figures.push(`whole release (runner: dagger) to production: ${seconds(took)}`);
    });
  });
});

/** Pids of `dagger session` processes on this machine. */
function cliProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((arg) => arg.endsWith('dagger')) && cmdline.includes('session'))
        pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
