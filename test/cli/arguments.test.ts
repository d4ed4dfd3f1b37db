/**
 * Wrong arguments through the real `tollgate` CLI against a real dev server: each exits 2 with
 * one line on stderr that says what to do. And every command's --help shows an example.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { fixtureRepo, pipelineStages, releaseInput } from '../support/stages.js';
import {
  createTestWorker,
  ROOT,
  startTestServer,
  tempDir,
  uniqueIds,
  temporalEnv,
} from '../support/temporal.js';

const CLI = join(ROOT, 'dist/src/client.js');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let env: TestWorkflowEnvironment;
let home: string;
let configFile: string;
let taskQueue: string;
/** A release that has finished (succeeded), for "promote on a finished run". */
let finishedRun: string;

before(async () => {
  env = await startTestServer();
  const dir = tempDir('arguments');
  home = join(dir, 'home');
  const ids = uniqueIds('arguments');
  taskQueue = ids.taskQueue;
  finishedRun = ids.workflowId;
  // A config lives in a git repository: the default `repository` is the one holding it.
  const configRepo = join(dir, 'config-repo');
  fixtureRepo(configRepo, {
    'app/.keep': '',
    'tollgate.config.ts': `export default { app: 'demo', source: './app', runner: 'host', stages: { 'test-suite': { steps: [['true']] } } };\n`,
  });
  configFile = join(configRepo, 'tollgate.config.ts');
  // The quickest release there is: two stages that echo.
  const stages = pipelineStages().filter((s) => ['quick-health-check', 'test-suite'].includes(s.name));
  const worker = await createTestWorker(env, taskQueue, home);
  await worker.runUntil(
    env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId: finishedRun,
      args: [releaseInput(dir, stages)],
    }),
  );
});
after(async () => {
  await env?.teardown();
});

function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...temporalEnv(env),
        TOLLGATE_TASK_QUEUE: taskQueue,
        TOLLGATE_HOME: home,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface ArgumentCase {
  name: string;
  args: () => string[];
  /** What the one line must say. */
  says: RegExp;
}

const CASES: ArgumentCase[] = [
  {
    name: 'status of an unknown run',
    args: () => ['status', 'release-no-such-app'],
    says: /^tollgate: no run release-no-such-app: .*tollgate history --json/,
  },
  {
    name: 'watch of an unknown run',
    args: () => ['watch', 'release-no-such-app'],
    says: /^tollgate: no run release-no-such-app: .*tollgate history --json/,
  },
  {
    name: 'promote of an unknown run',
    args: () => ['promote', 'release-no-such-app', '--by', 'alice'],
    says: /^tollgate: no run release-no-such-app: see `tollgate history`/,
  },
  {
    name: 'rollback of an unknown run',
    args: () => ['rollback', 'release-no-such-app', '--by', 'alice'],
    says: /^tollgate: no run release-no-such-app: see `tollgate history`/,
  },
  {
    name: 'env status of an unknown environment',
    args: () => ['env', 'status', 'qa', '--app', 'demo'],
    says: /^tollgate: no environment "qa" of demo under .*: known: none yet/,
  },
  {
    name: 'env stop of an unknown environment',
    // Without --app: the app of ./tollgate.config.ts (this repository's), when there is one.
    args: () => ['env', 'stop', 'qa'],
    says: /^tollgate: no environment "qa" (of \S+ )?under /,
  },
  {
    name: 'rollback --env of an environment the config does not have',
    args: () => ['rollback', '--env', 'qa', '--by', 'alice', '--reason', 'revert', '-c', configFile],
    says: /^tollgate: .*tollgate\.config\.ts has no environment "qa": configured: none/,
  },
  {
    name: 'promote with an empty --by',
    args: () => ['promote', finishedRun, '--by', ' '],
    says: /^tollgate: promote --by is empty: name who is deciding/,
  },
  {
    name: 'rollback with an empty --by',
    args: () => ['rollback', finishedRun, '--by', ''],
    says: /^tollgate: rollback --by is empty: name who is deciding/,
  },
  {
    name: 'promote on a finished run',
    args: () => ['promote', finishedRun, '--by', 'alice'],
    says: /^tollgate: run test-arguments-\w+ has finished \(COMPLETED\); to undo a finished release use `tollgate rollback --env <env>`/,
  },
  {
    // Without --by the OS user decides; the finished run is what stops it.
    name: 'promote without --by, of a finished run',
    args: () => ['promote', finishedRun],
    says: /^tollgate: run \S+ has finished \(COMPLETED\)/,
  },
  {
    name: 'rollback without --by, of a finished run',
    args: () => ['rollback', finishedRun],
    says: /^tollgate: run \S+ has finished \(COMPLETED\)/,
  },
  {
    name: 'run --verbose without --wait',
    args: () => ['run', '-c', configFile, '--verbose'],
    says: /^tollgate: --verbose follows the run: add --wait, or use `tollgate watch <run> --verbose`/,
  },
];

describe('wrong arguments exit 2 with one line that says what to do', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const result = await cli(...c.args());
      const shown = `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
      assert.equal(result.code, 2, shown);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line\n${shown}`);
      assert.match(lines[0]!, c.says, shown);
    });
  }
});

describe('--help', () => {
  const COMMANDS = [
    [],
    ['run'],
    ['watch'],
    ['status'],
    ['stage'],
    ['promote'],
    ['rollback'],
    ['history'],
    ['stats'],
    ['env'],
    ['env', 'status'],
    ['env', 'stop'],
    ['health'],
    ['schedule'],
    ['schedule', 'apply'],
    ['schedule', 'status'],
    ['schedule', 'trigger'],
    ['schedule', 'pause'],
    ['schedule', 'unpause'],
    ['schedule', 'delete'],
    ['plans'],
    ['doctor'],
    ['dev'],
    ['codec-server'],
  ];
  it('every command shows an example', async () => {
    // Two at a time: the machine has two cores, and other suites run beside this one.
    for (let i = 0; i < COMMANDS.length; i += 2) {
      const batch = COMMANDS.slice(i, i + 2);
      const results = await Promise.all(batch.map((command) => cli(...command, '--help')));
      results.forEach((result, j) => {
        const command = `tollgate ${batch[j]!.join(' ')}`;
        assert.equal(result.code, 0, `${command} --help\n${result.stderr}`);
        assert.match(
          result.stdout,
          /\nExamples?:\n {2}tollgate /,
          `${command} --help shows an example\n${result.stdout}`,
        );
      });
    }
  });

  it('run names the commit it releases and how to choose it', async () => {
    const { stdout } = await cli('run', '--help');
    for (const option of [
      '--ref <revision>',
      '--allow-dirty',
      '--repository <url|path>',
      '--until <stage|environment>',
    ]) {
      assert.ok(stdout.includes(option), `run --help lists ${option}\n${stdout}`);
    }
    assert.match(stdout, /A release is one commit of one repository/);
  });

  it('run and watch say where --verbose output comes from', async () => {
    for (const command of ['run', 'watch']) {
      const { stdout } = await cli(command, '--help');
      assert.match(stdout, /--verbose: when this machine can read the run's logs/);
      assert.match(stdout, /otherwise the latest output line of each running stage, from its heartbeats/);
    }
  });
});
