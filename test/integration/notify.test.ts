/**
 * Notifications end to end: the daily health workflow with a failing check, on the real dev
 * server and a worker with the real activities, sends its notice to a webhook receiver on
 * loopback. The receiver fails the first attempts, always fails, rejects the hook, or is not
 * configured; the run completes every time.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SlackMessage } from '../../src/notify/slack.js';
import type { DailyHealthInput, NotificationKind, NotificationPlan } from '../../src/types.js';
import type { dailyHealthCheck } from '../../src/workflows/daily-health.js';
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
    app,
    sourceDir: ROOT,
    runner: 'host',
    environments: [],
    revenue: { path: '/metrics/revenue', maxAgeMs: 86_400_000 },
    stripeKeySecret: 'TOLLGATE_TEST_UNSET_STRIPE_KEY',
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
