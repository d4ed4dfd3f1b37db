/**
 * `tollgate watch` on live runs, through the real CLI process: one line per change through a
 * pipe, NDJSON with --json, and the screen redrawn in place under a pseudo-terminal (`script`).
 * The worker runs in this process on a unique task queue; the CLI shares its TOLLGATE_HOME, so
 * --verbose tails the stage logs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { StagePlan } from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { pipelineStages, releaseInput, shStage } from '../support/stages.js';
import {
  createTestWorker,
  ROOT,
  startTestServer,
  tempDir,
  uniqueIds,
  temporalEnv,
} from '../support/temporal.js';
import { parseCliJson } from '../../src/cli/json-schemas.js';

const CLI = join(ROOT, 'dist/src/client.js');
const ESC = '\u001b';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.teardown();
});

interface Watched {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts a fixture release, runs `tollgate <args(workflowId)>` beside it until the CLI exits. */
async function watchRelease(
  label: string,
  stages: StagePlan[],
  command: (workflowId: string) => { file: string; args: string[] },
): Promise<Watched & { workflowId: string }> {
  const dir = tempDir(label);
  const home = join(dir, 'home');
  const { taskQueue, workflowId } = uniqueIds(label);
  const worker = await createTestWorker(env, taskQueue, home);
  const cliEnv = {
    ...process.env,
    ...temporalEnv(env),
    TOLLGATE_TASK_QUEUE: taskQueue,
    TOLLGATE_HOME: home,
  };
  const result = await worker.runUntil(async () => {
    await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [releaseInput(dir, stages)],
    });
    const { file, args } = command(workflowId);
    return new Promise<Watched>((resolve) => {
      const child = spawn(file, args, { cwd: ROOT, env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  });
  return { ...result, workflowId };
}

const node =
  (...args: string[]) =>
  () => ({ file: process.execPath, args: [CLI, ...args] });

/** Quick stages; the test suite prints a few lines so --verbose has something to stream. */
function stages(overrides: Partial<Record<StagePlan['name'], StagePlan>> = {}): StagePlan[] {
  return pipelineStages({
    'test-suite': shStage('test-suite', 'echo "suite: 12 passed"; sleep 0.5; echo "coverage 97%"'),
    ...overrides,
  });
}

describe('tollgate watch', () => {
  it('through a pipe: one compact line per transition, step output, a profile, exit 0', async () => {
    const w = await watchRelease('watch-pipe', stages(), (id) =>
      node('watch', id, '--verbose', '--profile')(),
    );
    const shown = `exit ${w.code}\n--- stdout\n${w.stdout}\n--- stderr\n${w.stderr}`;
    assert.equal(w.code, 0, shown);
    assert.ok(!w.stdout.includes(`${ESC}[`), `no ANSI sequences through a pipe\n${shown}`);
    for (const stage of ['quick-health-check', 'test-suite', 'test-rag-engine', 'build-production-image']) {
      assert.match(w.stdout, new RegExp(`^  ✓ ${stage} +succeeded in [\\d.]+s`, 'm'), shown);
      // One line per transition: a stage's success is printed once.
      assert.equal(w.stdout.match(new RegExp(`✓ ${stage} `, 'g'))?.length, 1, shown);
    }
    assert.match(w.stdout, /^ {2}phase: succeeded$/m, shown);
    assert.match(w.stdout, /│ test-suite: suite: 12 passed/, `--verbose streams the log\n${shown}`);
    assert.match(w.stdout, /│ test-suite: coverage 97%/, shown);
    assert.match(w.stdout, new RegExp(`✓ release succeeded: ${w.workflowId}`), shown);
    assert.match(w.stdout, /Profile \(from the workflow history\):/, shown);
    assert.match(w.stdout, /^ {2}test-suite +[\d.]+s +- +[\d.]+s +0$/m, shown);
    assert.match(w.stdout, /^ {2}total /m, shown);
  });

  it('--json: one object per change, then the end with the exit code (1 for a failed run)', async () => {
    const failing = shStage('test-suite', 'echo "1 failing"; exit 3', {
      retry: { initialIntervalMs: 100, backoffCoefficient: 1, maximumIntervalMs: 100, maximumAttempts: 1 },
    });
    const w = await watchRelease('watch-json', stages({ 'test-suite': failing }), (id) =>
      node('watch', id, '--json')(),
    );
    const shown = `exit ${w.code}\n--- stdout\n${w.stdout}\n--- stderr\n${w.stderr}`;
    assert.equal(w.code, 1, shown);
    const events = w.stdout
      .trim()
      .split('\n')
      .map((line) => parseCliJson('watch', line));
    assert.ok(
      events.some((e) => e.event === 'stage' && e.stage === 'quick-health-check' && e.state === 'succeeded'),
      shown,
    );
    assert.ok(
      events.some((e) => e.event === 'stage' && e.stage === 'test-suite' && e.state === 'failed'),
      shown,
    );
    const end = events.at(-1);
    assert.equal(end?.event, 'end', shown);
    assert.equal(end?.outcome, 'failed');
    assert.equal(end?.exitCode, 1);
    assert.ok(events.every((e) => e.workflowId === w.workflowId));
  });

  it('on a terminal: redraws the stage table in place and ends with the final state', async () => {
    const w = await watchRelease('watch-tty', stages(), (id) => ({
      file: 'script',
      // -e: script exits with the command's code; the pty makes stdout a TTY for the CLI.
      args: ['-qfec', `'${process.execPath}' '${CLI}' watch ${id}`, '/dev/null'],
    }));
    const shown = `exit ${w.code}\n--- output\n${JSON.stringify(w.stdout)}\n--- stderr\n${w.stderr}`;
    assert.equal(w.code, 0, shown);
    assert.match(
      w.stdout,
      new RegExp(`${ESC}\\[\\d+A${ESC}\\[0J`),
      `redrawn in place (cursor up, erase down)\n${shown}`,
    );
    assert.match(w.stdout, /stage +state +attempt +duration/, shown);
    // The last frame: every stage succeeded, then the outcome line.
    const lastFrame = w.stdout.slice(w.stdout.lastIndexOf(`${ESC}[0J`));
    for (const stage of ['quick-health-check', 'test-suite', 'build-production-image']) {
      assert.match(lastFrame, new RegExp(`✓ ${stage} +succeeded +1 +[\\d.]+s`), shown);
    }
    assert.match(lastFrame, new RegExp(`${w.workflowId} — fixture @ [0-9a-f]{12} — succeeded`), shown);
    assert.match(w.stdout, new RegExp(`✓ release succeeded: ${w.workflowId}`), shown);
  });
});
