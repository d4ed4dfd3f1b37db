/**
 * Pipelines as data, through the real CLI and a worker process on a real dev server: an app with
 * five stages of its own (two of them at the same time) and no revenue block, released to its only
 * environment; and an app whose chain is dev → staging → production, with a manual gate before
 * production that an approver opens with `tollgate promote`. (A cycle in `needs` is refused with
 * exit 2 by the CLI before anything starts: test/cli/config-errors.test.ts.)
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStatus, envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import type { ReleaseResult, ReleaseStatus } from '../../src/types.js';
import { appFiles, startSite } from '../support/apps.js';
import { freePort, waitForPhase } from '../support/delivery.js';
import { fixtureRepo } from '../support/stages.js';
import { startTestServer } from '../support/temporal.js';
import { parseCliJson } from '../../src/cli/json-schemas.js';

let env: TestWorkflowEnvironment;
const workers: ChildProcess[] = [];
const environments: { home: string; app: string; names: string[] }[] = [];
before(async () => {
  env = await startTestServer();
});
after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  for (const { home, app, names } of environments) {
    for (const name of names) await stopEnvironment(envPaths(home, { app, name })).catch(() => undefined);
  }
  await env?.teardown();
});

/** What the environment on `port` answers at /whoami. */
async function whoami(port: number): Promise<unknown> {
  return (await fetch(`http://127.0.0.1:${port}/whoami`)).json();
}

/** The run's handle once the server has it (the CLI starts it a moment after it is asked to). */
async function runningHandle(workflowId: string): Promise<WorkflowHandle> {
  const handle = env.client.workflow.getHandle(workflowId);
  for (;;) {
    const described = await handle.describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
    if (described?.status.name === 'RUNNING') return handle;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A step that meets `other`: it says it is here, then waits until `other` has said so too. Two
 * stages that each meet the other can only both pass when they run at the same time.
 */
const meet = (dir: string, self: string, other: string): string[] => [
  'sh',
  '-c',
  `touch '${dir}/${self}'; i=0; until [ -e '${dir}/${other}' ]; do i=$((i+1)); [ $i -gt 1200 ] && echo "${other} never ran beside ${self}" && exit 1; sleep 0.05; done`,
];

describe('pipelines as data', () => {
  it("an app's own five stages, two at the same time, no revenue block, to its only environment", async () => {
    const site = startSite(env, 'five-stages');
    workers.push(site.worker);
    const app = 'inventory-api';
    const port = await freePort();
    environments.push({ home: site.home, app, names: ['production'] });
    const meeting = join(site.dir, 'meeting');
    mkdirSync(meeting);
    const repo = join(site.dir, app);
    fixtureRepo(repo, {
      ...appFiles(app, 'v1'),
      'tollgate.config.ts': `export default {
  app: '${app}',
  runner: 'host',
  stages: {
    lint: { steps: [['node', '--check', 'src/server.js']] },
    'unit-tests': { needs: ['lint'], steps: [['npm', 'test'], ${JSON.stringify(meet(meeting, 'unit-tests', 'contract-tests'))}] },
    'contract-tests': { needs: ['lint'], steps: [${JSON.stringify(meet(meeting, 'contract-tests', 'unit-tests'))}] },
    'license-check': { needs: ['unit-tests', 'contract-tests'], steps: [['sh', '-c', 'test -f package.json']] },
    package: {
      steps: [['npm', 'run', 'build']],
      artifact: { include: ['dist', 'package.json'], install: ['true'], sbom: ['sh', '-c', 'echo {}'] },
    },
  },
  environments: [
    {
      name: 'production',
      port: ${port},
      start: ['node', 'dist/server.js'],
      smoke: { routes: ['/whoami'] },
      promotion: { mode: 'auto' },
      verification: { duration: '1s', interval: '250ms' },
    },
  ],
};
`,
    });

    const run = await site.cli('run', '-c', join(repo, 'tollgate.config.ts'), '--wait', '--json');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const { status } = parseCliJson('run', run.stdout) as unknown as { status: ReleaseStatus };
    const names = ['lint', 'unit-tests', 'contract-tests', 'license-check', 'package'];
    for (const name of names) assert.equal(status.stages[name]?.state, 'succeeded', name);
    // The two test stages overlapped: each started before the other ended (the meeting proves they had to).
    const unit = status.stages['unit-tests']!;
    const contract = status.stages['contract-tests']!;
    assert.ok(unit.startedAt! < contract.endedAt! && contract.startedAt! < unit.endedAt!);
    // `package` has no `needs`: it ran after license-check, the stage declared before it.
    assert.ok(status.stages['license-check']!.endedAt! <= status.stages.package!.startedAt!);
    // No revenue block: the smoke test checked health and routes only, and no Stripe secret was needed.
    const smoke = status.stages['smoke-test-production']?.summary ?? '';
    assert.doesNotMatch(smoke, /webhook/i, smoke);
    assert.equal(status.phase, 'succeeded');
    assert.deepEqual(await whoami(port), { app, version: 'v1' });

    const shown = await site.cli('status', 'release-inventory-api');
    assert.equal(shown.code, 0, shown.stderr);
    for (const name of names) assert.match(shown.stdout, new RegExp(`✓ ${name}\\b`), shown.stdout);
  });

  it('dev → staging → production: each deployed in turn; production waits for its approver', async () => {
    const site = startSite(env, 'three-envs');
    workers.push(site.worker);
    const app = 'billing-api';
    const ports = { dev: await freePort(), staging: await freePort(), production: await freePort() };
    environments.push({ home: site.home, app, names: Object.keys(ports) });
    const repo = join(site.dir, app);
    const environment = (name: keyof typeof ports, extra: string) =>
      `{ name: '${name}', port: ${ports[name]}, start: ['node', 'dist/server.js'], smoke: { routes: ['/whoami'] }, ${extra} }`;
    fixtureRepo(repo, {
      ...appFiles(app, 'v1'),
      'tollgate.config.ts': `export default {
  app: '${app}',
  runner: 'host',
  stages: {
    test: { steps: [['npm', 'test']] },
    build: { steps: [['npm', 'run', 'build']], artifact: { include: ['dist', 'package.json'], install: ['true'], sbom: ['sh', '-c', 'echo {}'] } },
  },
  environments: [
    ${environment('dev', "promotion: { mode: 'auto' }")},
    ${environment('staging', "promotion: { mode: 'auto' }")},
    ${environment('production', "promotion: { mode: 'manual', approvers: ['alice'], timeout: '10m', onTimeout: 'rollback' }, verification: { duration: '1s', interval: '250ms' }")},
  ],
};
`,
    });

    const started = await site.cli('run', '-c', join(repo, 'tollgate.config.ts'), '--json');
    assert.equal(started.code, 0, started.stdout + started.stderr);
    const handle = await runningHandle(`release-${app}`);
    const atGate = await waitForPhase(handle, 'awaiting-promotion');
    assert.equal(atGate.environment, 'production', 'the gate that waits is the one before production');
    assert.deepEqual(await whoami(ports.dev), { app, version: 'v1' });
    assert.deepEqual(await whoami(ports.staging), { app, version: 'v1' });
    const untouched = await environmentStatus(site.home, { app, name: 'production' });
    assert.equal(untouched.current, null, 'production untouched before the approval');

    const refused = await site.cli('promote', `release-${app}`, '--by', 'mallory', '--reason', 'let me');
    assert.notEqual(refused.code, 0, 'only an approver opens the gate');
    const promoted = await site.cli(
      'promote',
      `release-${app}`,
      '--by',
      'alice',
      '--reason',
      'staging is fine',
    );
    assert.equal(promoted.code, 0, promoted.stdout + promoted.stderr);
    const result = (await handle.result()) as ReleaseResult;
    assert.equal(result.outcome, 'succeeded', result.status.failure);
    for (const name of ['dev', 'staging', 'production']) {
      assert.equal(result.status.stages[`deploy-to-${name}`]?.state, 'succeeded', name);
      assert.equal(result.status.stages[`smoke-test-${name}`]?.state, 'succeeded', name);
    }
    // Deployed in the chain's order.
    const deployed = (name: string) => result.status.stages[`deploy-to-${name}`]!.startedAt!;
    assert.ok(deployed('dev') < deployed('staging') && deployed('staging') < deployed('production'));
    assert.deepEqual(await whoami(ports.production), { app, version: 'v1' });
    assert.ok(
      result.status.audit.some(
        (e) =>
          e.action === 'promote' &&
          e.by === 'alice' &&
          e.outcome === 'accepted' &&
          e.environment === 'production',
      ),
      JSON.stringify(result.status.audit),
    );
  });
});
