/**
 * The host runner with real child processes in temp dirs: step order, env, failure types,
 * process-group cleanup (timeout, abort, orphans), redaction, the coverage gate, the artifact.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FailureType } from '../../src/failures.js';
import { StageError } from '../../src/runners/errors.js';
import { HostRunner, StageCancelledError } from '../../src/runners/host.js';
import type { StageRunContext } from '../../src/runners/types.js';
import type { StagePlan, StageResult } from '../../src/types.js';

const runner = new HostRunner();
/** A regression that leaves a step running fails the test instead of hanging the run. */
const BOUNDED = { timeout: 20_000 };

interface Workspace {
  root: string;
  sourceDir: string;
  runDir: string;
  /** Where a step records "<its pid> <its background child's pid>"; killed on teardown. */
  pidsFile: string;
}

/** A temp dir with a source dir and a run dir; on teardown, kills anything a step recorded and removes it all. */
function workspace(t: TestContext): Workspace {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'tollgate-host-')));
  const ws = { root, sourceDir: join(root, 'src'), runDir: join(root, 'run'), pidsFile: join(root, 'pids') };
  mkdirSync(ws.sourceDir);
  t.after(() => {
    if (existsSync(ws.pidsFile)) for (const pid of readPids(ws.pidsFile)) killQuietly(-pid, pid);
    rmSync(root, { recursive: true, force: true });
  });
  return ws;
}

function plan(overrides: Partial<StagePlan> & { steps: StagePlan['steps'] }): StagePlan {
  return {
    name: 'test-suite',
    needs: [],
    image: 'node:20-slim',
    env: {},
    secrets: [],
    cache: false,
    timeoutMs: 30_000,
    retry: { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 10_000, maximumAttempts: 3 },
    retryableExitCodes: [],
    ...overrides,
  };
}

/** One step: `sh -c script` with optional step env. */
const sh = (script: string, env: Record<string, string> = {}): StagePlan['steps'][number] => ({
  run: ['sh', '-c', script],
  env,
});

function context(ws: Workspace, overrides: Partial<StageRunContext> = {}): StageRunContext {
  return {
    runId: 'run-under-test',
    attempt: 1,
    sourceDir: ws.sourceDir,
    runDir: ws.runDir,
    secrets: {},
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** Runs the stage and returns what it threw; fails when it succeeded. */
async function failure(promise: Promise<StageResult>): Promise<unknown> {
  const outcome = await promise.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  assert.ok('error' in outcome, `expected the stage to fail, it passed: ${JSON.stringify(outcome)}`);
  return outcome.error;
}

async function stageError(promise: Promise<StageResult>, type: FailureType): Promise<StageError> {
  const error = await failure(promise);
  assert.ok(error instanceof StageError, `expected a StageError, got ${String(error)}`);
  assert.equal(error.type, type, `${error.type}: ${error.message}\n${error.logTail}`);
  return error;
}

/**
 * A step script that starts `sleep 300` in the background, records both pids, and waits. The
 * sleep does not hold the output pipes, so only killing the whole group (not the pipes closing) ends it.
 */
function sleeperScript(pidsFile: string): string {
  return `sleep 300 </dev/null >/dev/null 2>&1 & echo "$$ $!" > '${pidsFile}.tmp' && mv '${pidsFile}.tmp' '${pidsFile}'; wait`;
}

function readPids(file: string): number[] {
  return readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
}

function killQuietly(...targets: number[]): void {
  for (const target of targets) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** State and process group of a pid from /proc, or undefined once it is gone. */
function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid pgrp ...": comm may hold spaces, so split after the last ')'.
    const [state = '', , pgrp = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** Running means not gone and not a zombie (an unreaped zombie has already exited). */
function isRunning(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Pids still running in process group `pgid`. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => procStat(pid)?.pgrp === pgid && isRunning(pid));
}

/** Polls until `done()` holds; a bounded wait for an outcome, failing with `what` if it never comes. */
async function waitFor(done: () => boolean, what: string | (() => string), timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(20);
  }
}

/** Asserts that the step and its background child are gone, and nothing is left in their group. */
async function assertGroupGone(pidsFile: string): Promise<void> {
  const [pgid = 0, child = 0] = readPids(pidsFile);
  assert.ok(pgid > 1 && child > 1, `recorded pids: ${pgid} ${child}`);
  await waitFor(
    () => !isRunning(pgid) && !isRunning(child) && groupMembers(pgid).length === 0,
    () =>
      `pids ${pgid} and ${child} (and group ${pgid}) to be gone; still running: ${groupMembers(pgid).join(' ')}`,
  );
}

void test('runs the steps in order, in the source dir, with the stage and step env', BOUNDED, async (t) => {
  const ws = workspace(t);
  const lines: string[] = [];
  const result = await runner.runStage(
    plan({
      env: { GREETING: 'hello' },
      steps: [
        sh('echo "one $(pwd -P) $GREETING $TOLLGATE_STAGE ${STEP_ONLY:-no-step-env}" >> steps.txt'),
        sh('echo "two $GREETING $STEP_ONLY" >> steps.txt', { STEP_ONLY: 'step-env' }),
        { run: ['touch', 'third'], env: {} },
      ],
    }),
    context(ws, { onProgress: (line) => lines.push(line) }),
  );
  assert.equal(
    readFileSync(join(ws.sourceDir, 'steps.txt'), 'utf8'),
    `one ${ws.sourceDir} hello test-suite no-step-env\ntwo hello step-env\n`,
  );
  assert.ok(existsSync(join(ws.sourceDir, 'third')));
  assert.equal(result.exitCode, 0);
  assert.equal(result.runner, 'host');
  assert.equal(result.logPath, join(ws.runDir, 'test-suite.log'));
  assert.match(result.summary, /^3 step\(s\) passed/);
  const log = readFileSync(result.logPath, 'utf8');
  assert.ok(
    log.indexOf('step 1/3') < log.indexOf('step 2/3') && log.indexOf('step 2/3') < log.indexOf('step 3/3'),
    log,
  );
  assert.ok(lines.some((line) => line.includes('step 3/3 (touch third)')));
  assert.equal(existsSync(join(ws.runDir, 'test-suite.pgid')), false, 'no pgid file once the stage is done');
});

void test(
  'a failing step is StepFailed with its exit code and log tail; later steps do not run',
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    const error = await stageError(
      runner.runStage(
        plan({
          steps: [
            sh('echo compiling; echo "assertion failed: 1 !== 2" >&2; exit 7'),
            sh('touch later-step-ran'),
          ],
        }),
        context(ws),
      ),
      FailureType.StepFailed,
    );
    assert.equal(error.exitCode, 7);
    assert.equal(error.stage, 'test-suite');
    assert.match(error.message, /step 1\/2 .* exited with 7/);
    assert.match(error.logTail, /compiling\nassertion failed: 1 !== 2\n/);
    assert.equal(error.logPath, join(ws.runDir, 'test-suite.log'));
    assert.ok(readFileSync(error.logPath, 'utf8').includes('assertion failed: 1 !== 2'));
    assert.equal(existsSync(join(ws.sourceDir, 'later-step-ran')), false, 'the second step must not run');
  },
);

void test(
  'an exit code listed in retryableExitCodes is StepInterrupted; others stay StepFailed',
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    const retryable = await stageError(
      runner.runStage(
        plan({ retryableExitCodes: [75], steps: [sh('echo "registry timeout"; exit 75')] }),
        context(ws),
      ),
      FailureType.StepInterrupted,
    );
    assert.equal(retryable.exitCode, 75);
    assert.match(retryable.message, /retryable by config/);
    const final = await stageError(
      runner.runStage(
        plan({ retryableExitCodes: [75], steps: [sh('exit 76')] }),
        context(ws, { attempt: 2 }),
      ),
      FailureType.StepFailed,
    );
    assert.equal(final.exitCode, 76);
  },
);

void test('a step killed by a signal from outside is StepInterrupted', BOUNDED, async (t) => {
  const ws = workspace(t);
  const error = await stageError(
    runner.runStage(
      plan({ steps: [sh('echo "about to be OOM-killed"; kill -9 $$'), sh('touch later-step-ran')] }),
      context(ws),
    ),
    FailureType.StepInterrupted,
  );
  assert.equal(error.exitCode, null);
  assert.match(error.message, /killed by SIGKILL/);
  assert.match(error.logTail, /about to be OOM-killed/);
  assert.equal(existsSync(join(ws.sourceDir, 'later-step-ran')), false);
});

void test(
  'a stage past its timeout is StageTimeout, and its whole process group is gone',
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    const error = await stageError(
      runner.runStage(
        plan({ timeoutMs: 1500, steps: [sh(sleeperScript(ws.pidsFile)), sh('touch later-step-ran')] }),
        context(ws),
      ),
      FailureType.StageTimeout,
    );
    assert.match(error.message, /ran past the stage timeout of 1500 ms/);
    // The step recorded its pids before the deadline; a missing file would fail here, not pass.
    await assertGroupGone(ws.pidsFile);
    assert.equal(existsSync(join(ws.sourceDir, 'later-step-ran')), false);
    assert.equal(existsSync(join(ws.runDir, 'test-suite.pgid')), false);
  },
);

void test(
  'an aborted stage throws StageCancelledError, and its whole process group is gone',
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    const controller = new AbortController();
    const outcome = failure(
      runner.runStage(
        plan({ steps: [sh(sleeperScript(ws.pidsFile)), sh('touch later-step-ran')] }),
        context(ws, { signal: controller.signal }),
      ),
    );
    await waitFor(() => existsSync(ws.pidsFile), 'the step to record its pids', 10_000);
    controller.abort();
    const error = await outcome;
    assert.ok(error instanceof StageCancelledError, `expected StageCancelledError, got ${String(error)}`);
    await assertGroupGone(ws.pidsFile);
    assert.equal(existsSync(join(ws.sourceDir, 'later-step-ran')), false);
  },
);

void test(
  'secrets reach the step as env and are redacted from the log, the tail and the callbacks',
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    const token = 'tok_9f8e7d6c5b4a3f2e1d0c';
    const seen: string[] = [];
    const result = await runner.runStage(
      plan({
        secrets: ['SERVICE_TOKEN'],
        steps: [
          sh(
            'printf "%s" "$SERVICE_TOKEN" > seen-token; echo "using $SERVICE_TOKEN"; echo "stderr $SERVICE_TOKEN" >&2',
          ),
          // Two writes with a pause between, so the secret most likely arrives in two chunks.
          sh(
            'rest=${SERVICE_TOKEN#????????}; printf "split=%s" "${SERVICE_TOKEN%"$rest"}"; sleep 0.2; printf "%s end\\n" "$rest"',
          ),
        ],
      }),
      context(ws, {
        secrets: { SERVICE_TOKEN: token },
        onOutput: (chunk) => seen.push(chunk),
        onProgress: (line) => seen.push(line),
      }),
    );
    assert.equal(readFileSync(join(ws.sourceDir, 'seen-token'), 'utf8'), token, 'the step got the secret');
    const log = readFileSync(result.logPath, 'utf8');
    for (const [where, text] of [
      ['log file', log],
      ['log tail', result.logTail],
      ['callbacks', seen.join('\n')],
    ] as const) {
      assert.ok(
        !text.includes(token) && !text.includes(token.slice(0, 8)) && !text.includes(token.slice(8)),
        `${where} leaks the secret:\n${text}`,
      );
      for (const line of ['using [REDACTED]', 'stderr [REDACTED]', 'split=[REDACTED] end']) {
        assert.ok(text.includes(line), `${where} has "${line}":\n${text}`);
      }
    }
  },
);

void test("the worker's own env vars outside the allowlist are not visible to a step", BOUNDED, async (t) => {
  const ws = workspace(t);
  const saved = {
    STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY,
    TOLLGATE_SAMPLE: process.env.TOLLGATE_SAMPLE,
  };
  t.after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  process.env.STRIPE_SECRET_KEY = 'sk_live_worker_only_0000000000';
  process.env.TOLLGATE_SAMPLE = 'allowlisted';
  await runner.runStage(
    plan({
      steps: [
        sh(
          'env > env-all; echo "${STRIPE_SECRET_KEY:-unset} ${TOLLGATE_SAMPLE:-unset} ${PATH:+path-set}" > env-seen',
        ),
      ],
    }),
    context(ws),
  );
  assert.equal(readFileSync(join(ws.sourceDir, 'env-seen'), 'utf8'), 'unset allowlisted path-set\n');
  const all = readFileSync(join(ws.sourceDir, 'env-all'), 'utf8');
  assert.ok(!all.includes('STRIPE_SECRET_KEY') && !all.includes('sk_live_'), all);
});

void test(
  'an orphan process group recorded by an earlier attempt is killed at the start of the next',
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    // What a worker killed with SIGKILL leaves behind: a detached group still running, its pgid on disk.
    const orphan = spawn('sh', ['-c', sleeperScript(ws.pidsFile)], { detached: true, stdio: 'ignore' });
    let orphanSignal: NodeJS.Signals | null | undefined;
    orphan.once('exit', (_code, signal) => (orphanSignal = signal));
    const pgid = orphan.pid;
    assert.ok(pgid !== undefined);
    t.after(() => killQuietly(-pgid, pgid));
    await waitFor(() => existsSync(ws.pidsFile), 'the orphan to record its pids', 10_000);
    mkdirSync(ws.runDir, { recursive: true });
    writeFileSync(join(ws.runDir, 'test-suite.pgid'), String(pgid));

    const result = await runner.runStage(
      plan({ steps: [{ run: ['true'], env: {} }] }),
      context(ws, { attempt: 2 }),
    );
    await waitFor(() => orphanSignal !== undefined, 'the orphan to exit');
    assert.equal(orphanSignal, 'SIGKILL');
    await assertGroupGone(ws.pidsFile);
    assert.ok(
      result.logTail.includes(`killed process group ${pgid} left by an earlier attempt`),
      result.logTail,
    );
    assert.ok(result.logTail.includes('attempt 2'));
  },
);

void test(
  'coverage below coverageMinimum is CoverageShortfall; at or above it passes',
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    const table = sh(
      [
        'echo "----------|---------|----------|---------|---------|"',
        'echo "File      | % Stmts | % Branch | % Funcs | % Lines |"',
        'echo "All files | 95 | 90 | 90 | 85.5 |"',
      ].join('; '),
    );
    const error = await stageError(
      runner.runStage(plan({ coverageMinimum: 90, steps: [table] }), context(ws)),
      FailureType.CoverageShortfall,
    );
    assert.match(error.message, /line coverage 85\.5% is below the 90% gate/);
    assert.match(error.logTail, /below the 90% gate/);
    // A run dir of its own: the log of the failed run above must not be what this one reads.
    const passed = await runner.runStage(
      plan({ coverageMinimum: 85.5, steps: [table] }),
      context(ws, { runDir: join(ws.root, 'run-2') }),
    );
    assert.match(passed.logTail, /coverage gate of 85\.5% passed/);
  },
);

void test(
  "the coverage gate reads this attempt's output, not a summary an earlier attempt left in the log",
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    const first = plan({
      coverageMinimum: 90,
      retryableExitCodes: [75],
      steps: [sh('echo "All files | 95 | 95 | 95 | 95 |"'), sh('exit 75')],
    });
    await stageError(runner.runStage(first, context(ws)), FailureType.StepInterrupted);
    // The retry's test run prints no summary at all (say the reporter crashed): the gate must not pass.
    const retry = plan({ coverageMinimum: 90, steps: [sh('echo "tests passed, no coverage printed"')] });
    const error = await stageError(
      runner.runStage(retry, context(ws, { attempt: 2 })),
      FailureType.CoverageShortfall,
    );
    assert.match(error.message, /no coverage summary/);
  },
);

void test(
  'a stage with an artifact packs a reproducible tarball with the include paths, its sha256 digest and an SBOM',
  BOUNDED,
  async (t) => {
    const ws = workspace(t);
    writeFileSync(join(ws.sourceDir, 'package.json'), '{ "name": "app", "version": "1.0.0" }\n');
    writeFileSync(join(ws.sourceDir, 'not-shipped.txt'), 'left out\n');
    const build = plan({
      // Any stage may carry the artifact: the runner goes by `artifact`, not by the stage's name.
      name: 'package',
      steps: [
        sh(
          'mkdir -p dist/lib && echo "console.log(1)" > dist/index.js && echo "export {}" > dist/lib/util.js',
        ),
      ],
      artifact: { include: ['dist', 'package.json'], install: ['true'], sbom: ['sh', '-c', 'echo {}'] },
    });
    const first = await runner.runStage(build, context(ws, { runDir: join(ws.root, 'run-1') }));
    const second = await runner.runStage(build, context(ws, { runDir: join(ws.root, 'run-2'), attempt: 2 }));

    assert.equal(first.logPath, join(ws.root, 'run-1', 'package.log'), 'the log is named after the stage');
    for (const result of [first, second]) {
      const artifact = result.artifact;
      assert.ok(artifact, 'the stage with an artifact returns one');
      assert.equal(artifact.kind, 'tarball');
      const bytes = readFileSync(artifact.path);
      assert.equal(artifact.digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
      assert.equal(artifact.sizeBytes, statSync(artifact.path).size);
      assert.ok(artifact.sbomPath);
      assert.equal(readFileSync(artifact.sbomPath, 'utf8'), '{}\n', 'the SBOM is the sbom command stdout');
    }
    assert.notEqual(first.artifact?.path, second.artifact?.path);
    assert.equal(
      first.artifact?.digest,
      second.artifact?.digest,
      'two builds of the same source give the same digest',
    );
    assert.ok(readFileSync(first.artifact!.path).equals(readFileSync(second.artifact!.path)));

    const entries = execFileSync('tar', ['-tzf', first.artifact!.path], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    for (const path of ['./package.json', './dist/index.js', './dist/lib/util.js']) {
      assert.ok(entries.includes(path), `the tarball holds ${path}: ${entries.join(' ')}`);
    }
    assert.ok(!entries.some((entry) => entry.includes('not-shipped')), 'only the include paths are packed');
  },
);
