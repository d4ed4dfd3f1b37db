/**
 * Notifications end to end: the daily health workflow with a failing check, on the real dev
 * server and a worker with the real activities, sends its notice to a webhook receiver on
 * loopback. The receiver fails the first attempts, always fails, rejects the hook, or is not
 * configured; the run completes every time. Releases of the sample app through real local
 * environments tell the receiver that they wait at the gate, were promoted or were rolled back.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FailureType } from '../../src/failures.js';
import type { SlackMessage } from '../../src/notify/slack.js';
import type { DailyHealthInput, NotificationKind, NotificationPlan, ReleaseStatus } from '../../src/types.js';
import type { dailyHealthCheck } from '../../src/workflows/daily-health.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { queryStatus } from '../../src/cli/runs.js';
import { promoteUpdate, rollbackUpdate } from '../../src/workflows/messages.js';
import {
  APP_SECRETS,
  buildSampleApp,
  REVENUE,
  sampleChain,
  sampleCommit,
  sampleInput,
  servedIn,
  stopSampleEnvironments,
  waitForPhase,
} from '../support/delivery.js';
import { createTestWorker, ROOT, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

const SECRET = 'TOLLGATE_WEBHOOK_URL';
const UI = 'http://localhost:8233';
/** Short intervals keep retries quick; what is asserted is how many requests arrived, not when. */
const QUICK = { initialIntervalMs: 100, maximumIntervalMs: 200 };
const ALL: NotificationKind[] = ['gate-waiting', 'promoted', 'rolled-back', 'daily-health-failed'];

/** One receiver for the file; each test gets its own path (the hook) and script of answers. */
const answers = new Map<string, number[]>();
const requests = new Map<string, { status: number; body: string }[]>();
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const hook = req.url ?? '';
    const seen = requests.get(hook) ?? [];
    const script = answers.get(hook) ?? [404];
    const status = script[Math.min(seen.length, script.length - 1)]!;
    seen.push({ status, body });
    requests.set(hook, seen);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
  });
});

let env: TestWorkflowEnvironment;
let base = '';
before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  env = await startTestServer();
});
after(async () => {
  receiver.closeAllConnections();
  receiver.close();
  await env?.teardown();
});

/** A health run whose only check fails: the Stripe key's variable is not set on the worker. */
function failingHealthInput(app: string, notifications: NotificationPlan): DailyHealthInput {
  return {
    schemaVersion: 2,
    app,
    source: { repository: ROOT, subdir: '' },
    runner: 'host',
    dependencies: [],
    environments: [],
    revenue: { ...REVENUE, stripeKeySecret: 'TOLLGATE_TEST_UNSET_STRIPE_KEY', maxAgeMs: 86_400_000 },
    notifications,
  };
}

interface Recorded {
  kind: string;
  text: string;
  workflowId: string;
  attempt: number;
  webhook?: string;
}

/**
 * Runs the health workflow with `answers` scripted at a fresh hook path; returns what the
 * receiver saw, the notifications.jsonl lines, the run's status and its history as text.
 */
async function runHealth(
  label: string,
  script: number[] | null,
  plan: Omit<NotificationPlan, 'uiUrl'>,
  secretSource: (url: string) => NodeJS.ProcessEnv = (url) => ({ [SECRET]: url }),
) {
  const { taskQueue, workflowId } = uniqueIds(label);
  const home = join(tempDir(label), 'home');
  // The path stands in for a Slack hook's token: it must never reach history or a message.
  const hook = `/services/${workflowId}/token-${label}`;
  if (script) answers.set(hook, script);
  const worker = await createTestWorker(env, taskQueue, home, {
    secretSource: secretSource(`${base}${hook}`),
  });
  const handle = await env.client.workflow.start<typeof dailyHealthCheck>('dailyHealthCheck', {
    taskQueue,
    workflowId,
    args: [failingHealthInput(label, { ...plan, uiUrl: UI })],
  });
  const report = await worker.runUntil(handle.result());
  const { status } = await handle.describe();
  const history = JSON.stringify(await handle.fetchHistory());
  const records = readFileSync(join(home, 'notifications.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Recorded);
  return { report, status: status.name, history, hook, seen: requests.get(hook) ?? [], records, workflowId };
}

describe('notifications', () => {
  it('a receiver that fails twice gets the notice once, as Slack JSON, and the run completes', async () => {
    const run = await runHealth('notify-flaky', [500, 500, 200], {
      webhook: { urlSecret: SECRET, events: ALL },
      retry: QUICK,
    });
    assert.equal(run.status, 'COMPLETED');
    assert.equal(run.report.ok, false);
    assert.deepEqual(
      run.seen.map((r) => r.status),
      [500, 500, 200],
      'two failed deliveries, then exactly one successful one',
    );
    const message = JSON.parse(run.seen[2]!.body) as SlackMessage;
    assert.match(message.text, /^notify-flaky: 1 of 1 health checks failed: stripe key \(.*is not set/);
    assert.deepEqual(
      message.blocks.map((b) => b.type),
      ['header', 'section', 'context'],
    );
    assert.deepEqual(message.blocks[0], {
      type: 'header',
      text: { type: 'plain_text', text: 'notify-flaky: daily health check failed' },
    });
    const context = JSON.stringify(message.blocks[2]);
    assert.ok(
      context.includes(`${UI}/namespaces/default/workflows/${run.workflowId}/`),
      `the context links to the run: ${context}`,
    );
    // Every attempt is in the local record, with what the webhook said.
    assert.deepEqual(
      run.records.map((r) => [r.kind, r.attempt, r.webhook?.replace(/:.*/s, '')]),
      [
        ['daily-health-failed', 1, 'failed'],
        ['daily-health-failed', 2, 'failed'],
        ['daily-health-failed', 3, 'delivered (200)'],
      ],
    );
    assert.match(run.records[0]!.webhook!, /webhook \(secret TOLLGATE_WEBHOOK_URL\) answered 500/);
    for (const text of [run.history, JSON.stringify(run.records), ...run.seen.map((r) => r.body)]) {
      assert.ok(!text.includes(run.hook), 'the webhook URL is in no history, record or message');
    }
  });

  it('a receiver that always fails is given up after the last attempt; the run still completes', async () => {
    const run = await runHealth('notify-down', [500], {
      webhook: { urlSecret: SECRET, events: ALL },
      retry: { ...QUICK, maximumAttempts: 3 },
    });
    assert.equal(run.status, 'COMPLETED');
    assert.equal(run.report.ok, false);
    assert.deepEqual(
      run.seen.map((r) => r.status),
      [500, 500, 500],
    );
    assert.deepEqual(
      run.records.map((r) => r.attempt),
      [1, 2, 3],
    );
    assert.match(run.history, /WebhookUnavailable/, 'the notify activity failed; the run did not');
    assert.ok(!run.history.includes(run.hook));
  });

  it('a hook answering 404 is not retried: one request, and the run completes', async () => {
    const run = await runHealth('notify-404', [404], {
      webhook: { urlSecret: SECRET, events: ALL },
      retry: QUICK,
    });
    assert.equal(run.status, 'COMPLETED');
    assert.equal(run.seen.length, 1, 'a misconfigured hook gets one request only');
    assert.equal(run.records.length, 1);
    assert.match(run.records[0]!.webhook!, /answered 404: no: check that TOLLGATE_WEBHOOK_URL holds/);
  });

  it('a webhook secret that is not set fails once, naming the secret; the notice is still recorded', async () => {
    const run = await runHealth(
      'notify-unset',
      [200],
      { webhook: { urlSecret: SECRET, events: ALL }, retry: QUICK },
      () => ({}),
    );
    assert.equal(run.status, 'COMPLETED');
    assert.equal(run.seen.length, 0);
    assert.equal(run.records.length, 1, 'MissingSecret is not retried');
    assert.match(run.records[0]!.webhook!, /the webhook notifier needs secret\(s\) TOLLGATE_WEBHOOK_URL/);
    assert.match(run.records[0]!.text, /health checks failed/);
  });

  it('a kind the webhook does not subscribe to is only recorded', async () => {
    const run = await runHealth('notify-filtered', [200], {
      webhook: { urlSecret: SECRET, events: ['rolled-back'] },
      retry: QUICK,
    });
    assert.equal(run.status, 'COMPLETED');
    assert.equal(run.seen.length, 0);
    assert.equal(run.records.length, 1);
    assert.equal(run.records[0]!.kind, 'daily-health-failed');
    assert.equal(run.records[0]!.webhook, undefined);
  });
});

/** The webhook secret's name on the release workers (its value is the receiver's hook URL). */
const RELEASE_SECRET = 'TOLLGATE_TEST_RELEASE_HOOK';
/** Who may decide at the gate; the gate-waiting notice names them. */
const APPROVERS = ['alice', 'bob'];

/** What a hook received, each message classified by its header (a Slack message carries no kind). */
function received(hook: string): { kind: string; status: number; message: SlackMessage }[] {
  return (requests.get(hook) ?? []).map(({ status, body }) => {
    const message = JSON.parse(body) as SlackMessage;
    const header = message.blocks[0]?.type === 'header' ? message.blocks[0].text.text : '';
    const kind = header.endsWith(': a release is waiting at the gate before production')
      ? 'gate-waiting'
      : header.endsWith(': promoted to production')
        ? 'promoted'
        : header.endsWith(': release rolled back')
          ? 'rolled-back'
          : `unknown (${header})`;
    return { kind, status, message };
  });
}

/** The text of a message's section block. */
function sectionOf(message: SlackMessage): string {
  const section = message.blocks.find((b) => b.type === 'section');
  assert.ok(section?.type === 'section', JSON.stringify(message));
  return section.text.text;
}

/**
 * Polls until the run waits at the gate, then until the hook has received `count` messages of
 * `kind` while it still waits (the gate's timeout is far off; a run that leaves the gate first fails the wait).
 */
async function waitAtGateFor(handle: WorkflowHandle, hook: string, kind: string, count = 1): Promise<void> {
  await waitForPhase(handle, 'awaiting-promotion');
  for (;;) {
    if (received(hook).filter((r) => r.kind === kind).length >= count) return;
    const { phase } = await queryStatus(handle);
    assert.equal(phase, 'awaiting-promotion', `the run left the gate before the ${kind} notice arrived`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('release notifications', () => {
  const homes: string[] = [];
  before(() => buildSampleApp());
  after(() => stopSampleEnvironments(homes));

  /**
   * A worker whose webhook secret points at a fresh hook with `script`, and a started release of
   * the sample app with manual promotion (a gate timeout far off) that notifies every kind.
   */
  async function startRelease(label: string, script: number[], retry: NotificationPlan['retry']) {
    const { taskQueue, workflowId } = uniqueIds(label);
    const dir = tempDir(label);
    const home = join(dir, 'home');
    homes.push(home);
    const hook = `/services/${workflowId}/token-${label}`;
    answers.set(hook, script);
    const worker = await createTestWorker(env, taskQueue, home, {
      secretSource: { ...process.env, ...APP_SECRETS, [RELEASE_SECRET]: `${base}${hook}` },
    });
    const commit = sampleCommit(join(dir, 'repo'), label);
    const chain = await sampleChain({
      promotion: { mode: 'manual', approvers: APPROVERS, timeoutMs: 300_000, onTimeout: 'rollback' },
    });
    const notifications: NotificationPlan = {
      webhook: { urlSecret: RELEASE_SECRET, events: ALL },
      uiUrl: UI,
      ...(retry ? { retry } : {}),
    };
    const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [sampleInput(commit, chain, { notifications })],
    });
    const records = (): Recorded[] =>
      readFileSync(join(home, 'notifications.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Recorded);
    return { worker, handle, hook, home, workflowId, records, commit: commit.commit };
  }

  it('tells the webhook the release waits at the gate (naming the approvers), then who promoted it', async () => {
    const run = await startRelease('notify-promote', [200], QUICK);
    await run.worker.runUntil(async () => {
      const waiting = await waitForPhase(run.handle, 'awaiting-promotion');
      await waitAtGateFor(run.handle, run.hook, 'gate-waiting');
      const [notice] = received(run.hook);
      assert.equal(notice?.kind, 'gate-waiting');
      assert.equal(notice.status, 200);
      assert.equal(
        notice.message.text,
        `saas-app: release ${waiting.releaseId} (commit ${run.commit.slice(0, 12)}) is waiting at the gate before production for alice, bob; at ${waiting.environments.production?.gate?.timeoutAt} it will be rolled back`,
      );
      const section = sectionOf(notice.message);
      assert.match(section, /^\*Approvers:\* alice, bob$/m, section);
      assert.ok(section.includes(`tollgate promote ${run.workflowId} --by &lt;name&gt;`), section);
      const context = JSON.stringify(notice.message.blocks.at(-1));
      assert.ok(
        context.includes(
          `${UI}/namespaces/default/workflows/${run.workflowId}/${run.handle.firstExecutionRunId}`,
        ),
        `the context links to the run: ${context}`,
      );

      const accepted = await run.handle.executeUpdate(promoteUpdate, {
        args: [{ by: 'alice', reason: 'staging is green' }],
      });
      assert.equal(accepted.accepted, true);
      const result = await run.handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(await servedIn(run.home, 'production'), result.status.releaseId);

      // The run waits for its notices before it ends: both are in by now, each delivered once.
      const seen = received(run.hook);
      assert.deepEqual(
        seen.map((r) => [r.kind, r.status]),
        [
          ['gate-waiting', 200],
          ['promoted', 200],
        ],
      );
      const promoted = seen[1]!.message;
      assert.equal(
        promoted.text,
        `saas-app: release ${result.status.releaseId} (commit ${run.commit.slice(0, 12)}) was promoted to production by alice`,
      );
      assert.match(sectionOf(promoted), /promoted to production by \*alice\*/);
      assert.deepEqual(
        run.records().map((r) => [r.kind, r.webhook]),
        [
          ['gate-waiting', 'delivered (200)'],
          ['promoted', 'delivered (200)'],
        ],
      );
      const history = JSON.stringify(await run.handle.fetchHistory());
      assert.ok(!history.includes(run.hook), 'the webhook URL is not in the history');
    });
  });

  it('tells the webhook who rolled the release back at the gate, and why', async () => {
    const run = await startRelease('notify-rollback', [200], QUICK);
    await run.worker.runUntil(async () => {
      await waitAtGateFor(run.handle, run.hook, 'gate-waiting');
      await run.handle.executeUpdate(rollbackUpdate, {
        args: [{ by: 'bob', reason: 'checkout copy is wrong' }],
      });
      const error = await run.handle.result().then(
        () => assert.fail('a rolled-back release does not succeed'),
        (e: unknown) => e,
      );
      assert.ok(
        error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure,
        String(error),
      );
      assert.equal(error.cause.type, FailureType.RolledBack);
      const status = error.cause.details?.[0] as ReleaseStatus;
      assert.equal(status.phase, 'rolled-back');
      assert.equal(status.environments.production?.gate?.state, 'rolled-back');

      const seen = received(run.hook);
      assert.deepEqual(
        seen.map((r) => [r.kind, r.status]),
        [
          ['gate-waiting', 200],
          ['rolled-back', 200],
        ],
        'no promoted notice, one rolled-back notice',
      );
      const notice = seen[1]!.message;
      assert.match(
        notice.text,
        new RegExp(
          `^saas-app: release ${status.releaseId} \\(commit ${run.commit.slice(0, 12)}\\) was rolled back by bob: .*checkout copy is wrong`,
        ),
      );
      const section = sectionOf(notice);
      assert.match(section, /rolled back by \*bob\*/);
      assert.match(section, /^\*Reason:\* .*checkout copy is wrong/m);
      assert.deepEqual(
        run.records().map((r) => r.kind),
        ['gate-waiting', 'rolled-back'],
      );
    });
  });

  it('a webhook that always answers 500 is given up; the release is still promoted and succeeds', async () => {
    const attempts = 2;
    const run = await startRelease('notify-release-down', [500], {
      ...QUICK,
      maximumAttempts: attempts,
    });
    await run.worker.runUntil(async () => {
      // The gate-waiting notice is given up while the run waits; the gate still takes a decision.
      await waitAtGateFor(run.handle, run.hook, 'gate-waiting', attempts);
      await run.handle.executeUpdate(promoteUpdate, { args: [{ by: 'alice' }] });
      const result = await run.handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(await servedIn(run.home, 'production'), result.status.releaseId);

      assert.deepEqual(
        received(run.hook).map((r) => [r.kind, r.status]),
        [
          ...Array.from({ length: attempts }, () => ['gate-waiting', 500]),
          ...Array.from({ length: attempts }, () => ['promoted', 500]),
        ],
        'each notice was tried as often as the plan allows, then given up',
      );
      // The local record has every attempt with what the webhook said (the two notices' attempts may interleave).
      for (const kind of ['gate-waiting', 'promoted']) {
        assert.deepEqual(
          run
            .records()
            .filter((r) => r.kind === kind)
            .map((r) => [r.attempt, r.webhook?.replace(/: .*/s, '')]),
          Array.from({ length: attempts }, (_, i) => [i + 1, 'failed']),
          kind,
        );
      }
      assert.match(run.records()[0]!.webhook!, /webhook \(secret TOLLGATE_TEST_RELEASE_HOOK\) answered 500/);
      const history = JSON.stringify(await run.handle.fetchHistory());
      assert.match(history, /WebhookUnavailable/, 'the notify activity failed; the release did not');
      assert.ok(!history.includes(run.hook));
    });
  });
});
