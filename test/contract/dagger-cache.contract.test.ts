/**
 * Contract tests of what the Dagger runner lets the engine cache, against a fake session that models
 * the engine's exec cache (the real engine cannot run in CI). What a real engine showed: a step that
 * failed was an ordinary cached result, so attempts 2 and 3 replayed attempt 1's failure without
 * running anything; a passing stage of the same source was served from the cache (the tests did not
 * run); and the install re-ran on every source change because the source came before it.
 * The rule now, the same as the host runner's: whether a stage runs at all is the stage result
 * cache's decision (keyed on the images' digests); when it runs, its steps run on every attempt;
 * only the dependency install is shared, keyed on the image and the manifest files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { FailureType } from '../../src/failures.js';
import { DaggerRunner } from '../../src/runners/dagger.js';
import { StageCache, stageCacheKey } from '../../src/runners/stage-cache.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import {
  stageContext,
  stageRejection,
  testPlan,
  useSession,
  withLockfile,
} from '../support/dagger-fixtures.js';

/** An engine whose `date +%s%N` step prints a fresh value each time it really runs, and exits 75. */
function flakyEngine(): fakeDagger.ExecModel & { runs: number } {
  const model = {
    runs: 0,
    run(chain: string) {
      if (!chain.includes('"date"')) return { exitCode: 0, output: '' };
      model.runs += 1;
      return { exitCode: 75, output: `now ${model.runs}\n` };
    },
  };
  return model;
}

const flakyPlan = testPlan({
  steps: [{ run: ['date', '+%s%N'], env: {} }],
  retryableExitCodes: [75],
});

void describe('what the Dagger runner lets the engine cache (contract, fake exec cache)', () => {
  let session: fakeDagger.FakeDaggerSession | undefined;
  let restore = (): void => undefined;
  afterEach(async () => {
    restore();
    await session?.close();
  });

  const withEngine = async (model: fakeDagger.ExecModel): Promise<fakeDagger.FakeDaggerSession> => {
    session = await fakeDagger.start([], model);
    restore = useSession(session);
    return session;
  };

  void it('a retry runs the failed step again instead of replaying the cached failure', async () => {
    const engine = flakyEngine();
    await withEngine(engine);
    const ctx = withLockfile(stageContext());
    const runner = new DaggerRunner();
    const first = await stageRejection(runner.runStage(flakyPlan, { ...ctx, attempt: 1 }));
    const second = await stageRejection(runner.runStage(flakyPlan, { ...ctx, attempt: 2 }));
    assert.equal(first.type, FailureType.StepInterrupted);
    assert.equal(second.type, FailureType.StepInterrupted);
    assert.equal(engine.runs, 2, 'the step ran on both attempts');
    assert.match(first.logTail, /now 1/);
    assert.match(second.logTail, /now 2/, 'attempt 2 printed its own output, not attempt 1 again');
  });

  void it('a new release of the same source runs the steps again; the install is shared', async () => {
    let installs = 0;
    let tests = 0;
    const s = await withEngine({
      run(chain) {
        if (chain.includes('"npm","test"')) tests += 1;
        else if (chain.includes('"npm","ci"')) installs += 1;
        return { exitCode: 0, output: '' };
      },
    });
    const ctx = withLockfile(stageContext());
    const plan = testPlan({ steps: [{ run: ['npm', 'test'], env: {} }] });
    await new DaggerRunner().runStage(plan, { ...ctx, runId: 'release-app-0123456789ab-one' });
    await new DaggerRunner().runStage(plan, { ...ctx, runId: 'release-app-0123456789ab-two' });
    assert.equal(tests, 2, 'the test step ran in both releases');
    assert.equal(installs, 1, 'the dependency install ran once: same image, same manifests');
    const install = s.executions.find(
      (chain) => chain.includes('"npm","ci"') && !chain.includes('"npm","test"'),
    );
    assert.doesNotMatch(
      install ?? '',
      /TOLLGATE_ATTEMPT|TOLLGATE_STAGE/,
      'nothing per-attempt reaches the install',
    );
  });

  void it('with cache: false the install runs again too', async () => {
    let installs = 0;
    await withEngine({
      run(chain) {
        if (chain.includes('"npm","ci"') && !chain.includes('"npm","test"')) installs += 1;
        return { exitCode: 0, output: '' };
      },
    });
    const ctx = withLockfile(stageContext());
    const plan = testPlan({ cache: false, steps: [{ run: ['npm', 'test'], env: {} }] });
    await new DaggerRunner().runStage(plan, { ...ctx, attempt: 1 });
    await new DaggerRunner().runStage(plan, { ...ctx, attempt: 2 });
    assert.equal(installs, 2);
  });

  void it('the install sees the manifest files only, so a source change does not reinstall', async () => {
    const s = await withEngine({ run: () => ({ exitCode: 0, output: '' }) });
    const ctx = withLockfile(stageContext());
    writeFileSync(join(ctx.sourceDir, '.npmrc'), 'fund=false\n');
    writeFileSync(join(ctx.sourceDir, 'src', 'index.js'), 'module.exports = 1;\n');
    await new DaggerRunner().runStage(testPlan({ steps: [{ run: ['npm', 'test'], env: {} }] }), ctx);
    const uploads = s.queries.filter((q) => q.includes('host  { directory'));
    assert.ok(
      uploads.some((q) =>
        q.includes(
          `directory (path: ${JSON.stringify(ctx.sourceDir)},include: ["package-lock.json","package.json",".npmrc"])`,
        ),
      ),
      'the manifests are uploaded on their own',
    );
    const install = s.executions.find((chain) => chain.includes('"npm","ci"')) ?? '';
    const test = s.executions.find((chain) => chain.includes('"npm","test"')) ?? '';
    assert.equal(
      install.split('withDirectory').length - 1,
      1,
      'one directory (the manifests) before the install',
    );
    assert.equal(test.split('withDirectory').length - 1, 2, 'the whole source arrives after it');
    assert.ok(test.indexOf('"npm","ci"') < test.lastIndexOf('withDirectory'), 'source after install');
  });

  void it("a stage's leading install step (quick-health-check's npm install) runs on the manifests, numbered as on the host", async () => {
    const s = await withEngine({ run: () => ({ exitCode: 0, output: '' }) });
    const plan = testPlan({
      name: 'quick-health-check',
      steps: [
        { run: ['npm', 'install', '--no-audit'], env: {} },
        { run: ['npm', 'run', 'health'], env: {} },
      ],
    });
    const result = await new DaggerRunner().runStage(plan, withLockfile(stageContext()));
    const install = s.executions.find((chain) => chain.includes('"npm","install"')) ?? '';
    assert.doesNotMatch(install, /"npm","ci"/, 'no second install is added');
    assert.equal(install.split('withDirectory').length - 1, 1, 'it runs before the source arrives');
    const health = s.executions.find((chain) => chain.includes('"npm","run","health"')) ?? '';
    assert.equal(health.split('"npm","install"').length - 1, 1, 'and is not run again as a step');
    assert.match(result.summary, /^2 step\(s\) passed/);
    const log = (await import('node:fs')).readFileSync(result.logPath, 'utf8');
    assert.match(log, /step 1\/2 \(npm install --no-audit\)/);
    assert.match(log, /step 2\/2 \(npm run health\)/);
  });

  void it("the stage result cache decides whether the stage runs, keyed on the images' digests: a hit runs nothing", async (t) => {
    let runs = 0;
    await withEngine({
      run(chain) {
        if (chain.includes('"npm","test"')) runs += 1;
        return { exitCode: 0, output: 'tests passed\n' };
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-dagger-cache-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cache = StageCache.under(join(dir, 'home'));
    const plan = testPlan({ steps: [{ run: ['npm', 'test'], env: {} }] });
    const identities: Record<string, string>[] = [];
    let key = '';
    const ctxFor = (runDir: string) => ({
      ...withLockfile(stageContext()),
      runDir,
      reuse: (identity: Record<string, string>) => {
        identities.push(identity);
        key = stageCacheKey({ plan, tree: 'f'.repeat(40), runner: 'dagger', identity });
        return cache.lookup(key, runDir);
      },
    });
    const first = await new DaggerRunner().runStage(plan, ctxFor(join(dir, 'run-1')));
    await cache.store(key, first, { workflowId: 'release-app', runId: 'one' });
    const second = await new DaggerRunner().runStage(plan, ctxFor(join(dir, 'run-2')));
    assert.equal(runs, 1, 'the steps ran in the first release only');
    assert.deepEqual(identities[0], { [`image:${plan.image}`]: `${plan.image}@${fakeDagger.FAKE_DIGEST}` });
    assert.deepEqual(identities[1], identities[0], 'the same digests: the same key');
    assert.deepEqual([second.cached?.workflowId, second.cached?.runId], ['release-app', 'one']);
    assert.equal(second.runner, 'dagger');
    assert.match(readFileSync(second.logPath, 'utf8'), /served from the stage result cache/);
  });
});
