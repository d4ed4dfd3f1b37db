/** Process settings: which queues a worker polls, and refusals that name the variable and the fix. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TASK_QUEUE } from '../../src/constants.js';
import { loadSettings } from '../../src/settings.js';
import { workerRoles } from '../../src/worker.js';

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
