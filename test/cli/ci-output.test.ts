/**
 * CI output without a server: GitHub Actions workflow commands and their escaping, the job summary,
 * what explains a failed stage (its last lines, where its log is), the lines view's groups and
 * annotations, and what `--until-gate` stops at.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LinesView, nextCommands, outcomeLine, waitingGate } from '../../src/cli/follow.js';
import {
  appendJobSummary,
  errorAnnotation,
  escapeData,
  escapeProperty,
  GROUP_END,
  groupStart,
  jobSummary,
  stageAnnotation,
  underGitHubActions,
} from '../../src/cli/github.js';
import { describeFailure, logLocation, outcomeWords } from '../../src/cli/progress.js';
import type { ReleaseStatus, StageStatus } from '../../src/types.js';

const RUN = { workflowId: 'release-shop', runId: '0190a7f2-run' };
const LOG = `/srv/tollgate/runs/${RUN.workflowId}/${RUN.runId}/test-suite.log`;

/** A failed stage as the status carries it: the reason, its last lines and the log's path on the worker. */
const FAILED: StageStatus = {
  state: 'failed',
  attempts: 1,
  startedAt: '2025-03-01T10:00:00.000Z',
  endedAt: '2025-03-01T10:00:02.000Z',
  summary: 'test-suite: step 1/1 (npm test) exited with 1',
  failureType: 'StepFailed',
  logTail: 'ok 1 - cart\nok 2 - tax\nnot ok 3 - checkout total\n\nkey sk_live_abcdefghijklmnop1234',
  logPath: LOG,
};

function status(stages: Record<string, StageStatus>, extra: Partial<ReleaseStatus> = {}): ReleaseStatus {
  return {
    schemaVersion: 2,
    app: 'shop',
    source: {
      repository: '/srv/git/shop',
      commit: 'ab'.repeat(20),
      tree: null,
      subdir: '',
      revision: 'main',
    },
    phase: 'stages',
    stages,
    environments: {},
    compensations: [],
    audit: [],
    ...extra,
  };
}

describe('GitHub workflow commands', () => {
  it('escapes messages (%, CR, LF) and properties (also : and ,) as the runner reads them back', () => {
    assert.equal(escapeData('100% done\r\nnext: a, b'), '100%25 done%0D%0Anext: a, b');
    assert.equal(escapeProperty('100% done\r\nnext: a, b'), '100%25 done%0D%0Anext%3A a%2C b');
    // `%` first: an escape in the input is not read as one.
    assert.equal(escapeData('%0A'), '%250A');
    assert.equal(groupStart('test-suite'), '::group::test-suite');
    assert.equal(GROUP_END, '::endgroup::');
    assert.equal(
      errorAnnotation('deploy: staging, eu', 'line 1\nline 2'),
      '::error title=deploy%3A staging%2C eu::line 1%0Aline 2',
    );
  });

  it('knows a GitHub job by GITHUB_ACTIONS=true only', () => {
    assert.equal(underGitHubActions({ GITHUB_ACTIONS: 'true' }), true);
    assert.equal(underGitHubActions({ GITHUB_ACTIONS: 'false' }), false);
    assert.equal(underGitHubActions({}), false);
  });

  it("a failed stage's annotation: one line holding the reason, its last lines (masked) and the log", () => {
    const annotation = stageAnnotation('test-suite', FAILED, RUN);
    assert.ok(!annotation.includes('\n'), annotation);
    assert.match(
      annotation,
      /^::error title=test-suite::test-suite: step 1\/1 \(npm test\) exited with 1%0A/,
    );
    assert.match(annotation, /%0Anot ok 3 - checkout total%0A/);
    assert.ok(!annotation.includes('abcdefghijklmnop1234'), `the key is masked: ${annotation}`);
    assert.match(annotation, /sk_live_…1234/);
    assert.match(annotation, new RegExp(`full log: ${LOG} on the worker`));
  });
});

describe('what explains a failed stage', () => {
  it('its last lines (credential-looking values masked) and the log, on the worker and under $TOLLGATE_HOME', () => {
    assert.deepEqual(describeFailure('test-suite', FAILED, RUN), [
      '    │ ok 1 - cart',
      '    │ ok 2 - tax',
      '    │ not ok 3 - checkout total',
      '    │ key sk_live_…1234',
      `    full log: ${LOG} on the worker ($TOLLGATE_HOME/runs/${RUN.workflowId}/${RUN.runId}/test-suite.log)`,
    ]);
  });

  it('without a path from the worker, the place the log has under $TOLLGATE_HOME', () => {
    const { logPath: _path, ...old } = FAILED;
    assert.deepEqual(logLocation('test-suite', old, RUN), {
      inHome: `$TOLLGATE_HOME/runs/${RUN.workflowId}/${RUN.runId}/test-suite.log`,
    });
  });

  it('nothing for a step without a log of its own (a deploy)', () => {
    assert.deepEqual(describeFailure('deploy-to-staging', { state: 'failed', attempts: 1 }, RUN), []);
  });
});

describe('the lines view', () => {
  const collect = (github: boolean, quiet = false) => {
    const lines: string[] = [];
    return { lines, view: new LinesView(RUN, github, (line) => lines.push(line), quiet) };
  };
  const running: StageStatus = { state: 'running', attempts: 1, startedAt: FAILED.startedAt! };

  it("under GitHub Actions: each stage's lines in its group, then (outside) a failure's last lines and its annotation", () => {
    const { lines, view } = collect(true);
    view.status(status({ 'test-suite': running }));
    view.steps([{ stage: 'test-suite', line: 'ok 1 - cart' }]);
    view.status(status({ 'test-suite': FAILED }));
    view.end({ exitCode: 1, outcome: 'failed', status: undefined });
    assert.deepEqual(lines.slice(0, 4), [
      '  phase: stages',
      '::group::test-suite',
      `  ▶ ${'test-suite'.padEnd(24)} running`,
      '    │ test-suite: ok 1 - cart',
    ]);
    assert.match(
      lines[4]!,
      /^ {2}✗ test-suite +failed in 2\.0s — test-suite: step 1\/1 \(npm test\) exited with 1$/,
    );
    assert.deepEqual(lines.slice(5, 11), [
      '::endgroup::',
      '    │ ok 1 - cart',
      '    │ ok 2 - tax',
      '    │ not ok 3 - checkout total',
      '    │ key sk_live_…1234',
      `    full log: ${LOG} on the worker ($TOLLGATE_HOME/runs/${RUN.workflowId}/${RUN.runId}/test-suite.log)`,
    ]);
    assert.match(lines[11]!, /^::error title=test-suite::/);
    assert.equal(lines.length, 12, 'the failed stage is annotated once, the run not again');
  });

  it('under GitHub Actions: a stage first seen finished has its group too; stages take turns', () => {
    const { lines, view } = collect(true);
    const passed: StageStatus = { ...running, state: 'succeeded', endedAt: FAILED.endedAt!, summary: 'ok' };
    view.status(status({ lint: passed, 'test-suite': running }));
    view.steps([{ stage: 'lint', line: 'late line' }]);
    view.end({ exitCode: 0, outcome: 'succeeded', status: undefined });
    assert.deepEqual(
      lines.filter((l) => l.startsWith('::')),
      [
        '::group::lint',
        '::endgroup::',
        '::group::test-suite',
        '::endgroup::',
        '::group::lint',
        '::endgroup::',
      ],
    );
  });

  it('a run that failed without a failed stage (rolled back at the gate) is annotated at the end', () => {
    const { lines, view } = collect(true);
    view.end({ exitCode: 1, outcome: 'rolled-back', status: undefined, message: 'rolled back at the gate' });
    assert.deepEqual(lines, [
      `::error title=release rolled back::${RUN.workflowId}: rolled back at the gate`,
    ]);
  });

  it('elsewhere: no workflow commands, the same lines', () => {
    const { lines, view } = collect(false);
    view.status(status({ 'test-suite': running }));
    view.status(status({ 'test-suite': FAILED }));
    view.end({ exitCode: 1, outcome: 'failed', status: undefined });
    assert.ok(
      lines.every((line) => !line.startsWith('::')),
      lines.join('\n'),
    );
    assert.ok(lines.includes('    │ not ok 3 - checkout total'), lines.join('\n'));
  });

  it('quiet (--json, on stderr): only what explains the failure', () => {
    const { lines, view } = collect(false, true);
    view.status(status({ 'test-suite': running }));
    view.status(status({ 'test-suite': FAILED }));
    assert.deepEqual(lines, describeFailure('test-suite', FAILED, RUN));
  });
});

describe('--until-gate', () => {
  const gate = {
    state: 'waiting' as const,
    since: '2025-03-01T10:00:00.000Z',
    timeoutAt: '2025-03-01T10:10:00.000Z',
  };

  it('stops at a gate waiting for a person, not at an automatic gate passing through', () => {
    const atGate = status(
      {},
      { phase: 'awaiting-promotion', environment: 'production', environments: { production: { gate } } },
    );
    assert.deepEqual(waitingGate(atGate), {
      environment: 'production',
      since: gate.since,
      timeoutAt: gate.timeoutAt,
    });
    const auto = status(
      {},
      { phase: 'deploying', environment: 'staging', environments: { staging: { gate } } },
    );
    assert.equal(waitingGate(auto), undefined);
    const decided = status(
      {},
      {
        phase: 'awaiting-promotion',
        environment: 'production',
        environments: { production: { gate: { ...gate, state: 'promoted', decidedBy: 'alice' } } },
      },
    );
    assert.equal(waitingGate(decided), undefined);
  });

  it('says how to promote and how to follow the run later', () => {
    assert.deepEqual(nextCommands('release-shop'), {
      promote: 'tollgate promote release-shop --by <you>',
      wait: 'tollgate wait release-shop',
    });
    const line = outcomeLine({
      workflowId: 'release-shop',
      url: 'http://ui/run',
      outcome: 'waiting-at-gate',
      gate: { environment: 'production', since: gate.since, timeoutAt: gate.timeoutAt },
    });
    assert.match(line, /^⏸ release waiting at the gate before production: release-shop/);
    assert.match(line, /tollgate promote release-shop --by <you>/);
    assert.match(line, /tollgate wait release-shop/);
  });

  it('one spelling in JSON (rolled-back), the words for people', () => {
    assert.equal(outcomeWords('rolled-back'), 'rolled back');
    assert.match(
      outcomeLine({ workflowId: 'release-shop', url: 'http://ui/run', outcome: 'rolled-back' }),
      /^✗ release rolled back: release-shop/,
    );
  });
});

describe('the job summary', () => {
  const failedRun = status(
    {
      lint: {
        state: 'succeeded',
        attempts: 1,
        startedAt: FAILED.startedAt!,
        endedAt: FAILED.startedAt!,
        summary: 'lint passed | 0 warnings',
      },
      'test-suite': FAILED,
    },
    {
      phase: 'failed',
      failure: 'stage test-suite failed [StepFailed]: test-suite: step 1/1 (npm test) exited with 1',
    },
  );
  const url = 'http://localhost:8233/namespaces/default/workflows/release-shop/0190a7f2-run';

  it('a row per stage linking the run, the failed one with its reason and log, then its last lines', () => {
    const markdown = jobSummary({
      ...RUN,
      url,
      outcome: 'failed',
      status: failedRun,
      message: failedRun.failure!,
    });
    assert.match(markdown, /^### Tollgate: shop @ `abababababab` — failed$/m);
    assert.match(
      markdown,
      new RegExp(
        `^\\| \\[lint\\]\\(${url}\\) \\| succeeded \\| 1 \\| 0\\.0 s \\| lint passed \\\\\\| 0 warnings \\|$`,
        'm',
      ),
    );
    const row = markdown.split('\n').find((l) => l.startsWith('| [test-suite]'));
    assert.ok(row, markdown);
    assert.match(
      row,
      /\| failed \| 1 \| 2\.0 s \| test-suite: step 1\/1 \(npm test\) exited with 1<br>log `[^`]+test-suite\.log` on the worker/,
    );
    assert.match(row, /\$TOLLGATE_HOME\/runs\/release-shop\/0190a7f2-run\/test-suite\.log/);
    assert.match(markdown, /<summary>test-suite: last lines of the log<\/summary>\n\n```text\nok 1 - cart\n/);
    assert.match(markdown, /^not ok 3 - checkout total$/m);
    assert.ok(!markdown.includes('abcdefghijklmnop1234'), 'the key is masked');
    assert.match(markdown, new RegExp(`\\[release-shop in the Temporal UI\\]\\(${url}\\)`));
  });

  it('at the gate: the promote and wait commands', () => {
    const markdown = jobSummary({
      ...RUN,
      url,
      outcome: 'waiting-at-gate',
      status: status({}, { phase: 'awaiting-promotion' }),
      gate: { environment: 'production', timeoutAt: '2025-03-01T10:10:00.000Z' },
    });
    assert.match(markdown, /— waiting at the gate$/m);
    assert.match(markdown, /`tollgate promote release-shop --by <you>`/);
    assert.match(markdown, /`tollgate wait release-shop`/);
  });

  it('appends to $GITHUB_STEP_SUMMARY when the job has one, and writes nothing otherwise', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-summary-')), 'summary.md');
    const summary = { ...RUN, url, outcome: 'failed' as const, status: failedRun };
    appendJobSummary(summary, {});
    appendJobSummary(summary, { GITHUB_STEP_SUMMARY: file });
    appendJobSummary(summary, { GITHUB_STEP_SUMMARY: file });
    assert.equal(readFileSync(file, 'utf8'), jobSummary(summary).repeat(2));
  });
});
