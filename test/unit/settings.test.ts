/** Process settings: which queues a worker polls, and refusals that name the variable and the fix. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TASK_QUEUE } from '../../src/constants.js';
import { loadSettings } from '../../src/settings.js';
import { workerRoles } from '../../src/worker.js';
import { runCli } from '../support/cli.js';

describe('worker queues', () => {
  it('polls only the release queue when builds have no queue of their own', () => {
    const settings = loadSettings({});
    assert.equal(settings.taskQueue, TASK_QUEUE);
    assert.equal(settings.buildTaskQueue, undefined);
    assert.deepEqual(workerRoles(settings), ['release']);
  });

  it('polls both queues by default once a build queue is set, either one on request', () => {
    const env = { TOLLGATE_BUILD_TASK_QUEUE: 'tollgate-builds' };
    assert.deepEqual(workerRoles(loadSettings(env)), ['release', 'build']);
    assert.deepEqual(workerRoles(loadSettings({ ...env, TOLLGATE_WORKER_QUEUES: 'build' })), ['build']);
    assert.deepEqual(workerRoles(loadSettings({ ...env, TOLLGATE_WORKER_QUEUES: 'release' })), ['release']);
    assert.equal(loadSettings(env).buildTaskQueue, 'tollgate-builds');
  });

  it('refuses an unknown choice and a build-only worker without a build queue', () => {
    assert.throws(
      () => loadSettings({ TOLLGATE_WORKER_QUEUES: 'builds' }),
      /TOLLGATE_WORKER_QUEUES=builds is not a choice: use release, build or all/,
    );
    assert.throws(
      () => loadSettings({ TOLLGATE_WORKER_QUEUES: 'build' }),
      /TOLLGATE_WORKER_QUEUES=build needs TOLLGATE_BUILD_TASK_QUEUE/,
    );
  });
});

describe('settings errors', () => {
  it('refuses a concurrency that is not a positive whole number, naming the variable and the fix', () => {
    assert.equal(loadSettings({}).maxConcurrentStages, 100);
    assert.equal(loadSettings({ TOLLGATE_MAX_CONCURRENT_STAGES: '4' }).maxConcurrentStages, 4);
    for (const bad of ['0', 'four', '2.5']) {
      assert.throws(
        () => loadSettings({ TOLLGATE_MAX_CONCURRENT_STAGES: bad }),
        new RegExp(`TOLLGATE_MAX_CONCURRENT_STAGES=${bad} is not a whole number ≥ 1: set it to`),
      );
    }
  });

  it("workflow task slots and the sticky cache default to the load bench's best; 1 slot is refused (the SDK needs 2)", () => {
    const defaults = loadSettings({});
    assert.equal(defaults.maxConcurrentWorkflowTasks, 10);
    assert.equal(defaults.maxCachedWorkflows, 1000);
    const set = loadSettings({
      TOLLGATE_MAX_CONCURRENT_WORKFLOW_TASKS: '40',
      TOLLGATE_MAX_CACHED_WORKFLOWS: '0',
    });
    assert.equal(set.maxConcurrentWorkflowTasks, 40);
    assert.equal(set.maxCachedWorkflows, 0);
    assert.throws(
      () => loadSettings({ TOLLGATE_MAX_CONCURRENT_WORKFLOW_TASKS: '1' }),
      /TOLLGATE_MAX_CONCURRENT_WORKFLOW_TASKS=1 is not a whole number ≥ 2: set it to how many workflow tasks/,
    );
    assert.throws(
      () => loadSettings({ TOLLGATE_MAX_CACHED_WORKFLOWS: 'lots' }),
      /TOLLGATE_MAX_CACHED_WORKFLOWS=lots is not a whole number ≥ 0/,
    );
  });

  it('a bad setting stops the CLI with one line and exit 2', async () => {
    const result = await runCli(['history'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TOLLGATE_RUNNER: 'docker',
    });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr.trim(),
      'tollgate: TOLLGATE_RUNNER=docker is not a runner: use auto, host or dagger',
    );
  });
});
