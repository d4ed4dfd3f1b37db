/** The Slack-compatible message of each notification kind: text fallback, header, section, context. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slackMessage, summaryOf, type SlackBlock } from '../../src/notify/slack.js';
import type { DailyHealthReport, Notification } from '../../src/types.js';

const RUN = {
  app: 'saas-app',
  workflowId: 'release-saas-app',
  uiUrl: 'http://localhost:8233/namespaces/default/workflows/release-saas-app/run-1',
};
const RELEASE = { ...RUN, releaseId: 'saas-app-3f2a9c1-0a1b2c3d', ref: '3f2a9c1' };
const REPORT: DailyHealthReport = {
  app: 'saas-app',
  ok: false,
  startedAt: '2025-03-01T06:00:00.000Z',
  endedAt: '2025-03-01T06:00:04.000Z',
  checks: [
    { name: 'staging health', ok: true, detail: 'answered 200' },
    { name: 'staging readiness', ok: false, detail: 'http://127.0.0.1:4100/readyz answered 503: <locked>' },
    { name: 'revenue freshness', ok: false, detail: 'revenue tracking is stale & old' },
  ],
};

const CASES: { notification: Notification; header: RegExp; text: RegExp; section: RegExp[] }[] = [
  {
    notification: {
      ...RELEASE,
      kind: 'gate-waiting',
      approvers: ['release-manager', 'oncall'],
      timeoutAt: '2025-03-01T10:30:00.000Z',
      onTimeout: 'rollback',
    },
    header: /^saas-app: a release is waiting at the gate before production$/,
    text: /saas-app-3f2a9c1-0a1b2c3d .*waiting at the gate before production for release-manager, oncall; at 2025-03-01T10:30:00.000Z it will be rolled back/,
    section: [
      /\*Approvers:\* release-manager, oncall/,
      /tollgate promote release-saas-app --by &lt;name&gt;/,
      /then it is rolled back/,
    ],
  },
  {
    notification: { ...RELEASE, kind: 'promoted', by: 'alice' },
    header: /^saas-app: promoted to production$/,
    text: /saas-app-3f2a9c1-0a1b2c3d \(commit 3f2a9c1\) was promoted to production by alice$/,
    section: [/promoted to production by \*alice\*/],
  },
  {
    notification: {
      ...RELEASE,
      kind: 'rolled-back',
      by: 'tollgate',
      reason: 'verification breach: error rate 7% > 1%',
    },
    header: /^saas-app: release rolled back$/,
    text: /rolled back by tollgate: verification breach: error rate 7% > 1%$/,
    section: [/\*Reason:\* verification breach: error rate 7% &gt; 1%/],
  },
  {
    notification: {
      ...RUN,
      kind: 'daily-health-failed',
      text: 'saas-app: 2 of 3 health checks failed: staging readiness (...); revenue freshness (...)',
      report: REPORT,
    },
    header: /^saas-app: daily health check failed$/,
    text: /^saas-app: 2 of 3 health checks failed/,
    section: [
      /^2 of 3 checks failed:/,
      /• \*staging readiness\*: http:\/\/127\.0\.0\.1:4100\/readyz answered 503: &lt;locked&gt;/,
      /• \*revenue freshness\*: revenue tracking is stale &amp; old/,
    ],
  },
];

/** The blocks of a message by type, asserting the shape Slack requires. */
function blocksOf(blocks: SlackBlock[]): { header: string; section: string; context: string } {
  assert.deepEqual(
    blocks.map((b) => b.type),
    ['header', 'section', 'context'],
  );
  const [header, section, context] = blocks as [
    Extract<SlackBlock, { type: 'header' }>,
    Extract<SlackBlock, { type: 'section' }>,
    Extract<SlackBlock, { type: 'context' }>,
  ];
  assert.equal(header.text.type, 'plain_text');
  assert.ok(header.text.text.length <= 150, 'a header holds at most 150 characters');
  assert.equal(section.text.type, 'mrkdwn');
  assert.ok(section.text.text.length <= 3000, 'a section holds at most 3000 characters');
  assert.equal(context.elements.length, 1);
  return { header: header.text.text, section: section.text.text, context: context.elements[0]!.text };
}

describe('slack message', () => {
  for (const { notification, header, text, section } of CASES) {
    it(`${notification.kind}: fallback text, header, section and a link to the run`, () => {
      const message = slackMessage(notification);
      assert.equal(message.text, summaryOf(notification));
      assert.match(message.text, text);
      const blocks = blocksOf(message.blocks);
      assert.match(blocks.header, header);
      for (const line of section) assert.match(blocks.section, line);
      assert.equal(
        blocks.context,
        `<${RUN.uiUrl}|Open the run in the Temporal UI> · workflow \`${notification.workflowId}\``,
      );
      // What goes over the wire is JSON: nothing in it is undefined or a function.
      assert.deepEqual(JSON.parse(JSON.stringify(message)), message);
    });
  }

  it('names the workflow without a link when the UI address is unknown', () => {
    const { uiUrl: _unknown, ...withoutUi } = RELEASE;
    const { context } = blocksOf(slackMessage({ ...withoutUi, kind: 'promoted', by: 'alice' }).blocks);
    assert.equal(context, 'workflow `release-saas-app`');
  });

  it('clips long content to what Slack accepts and says how many checks are not shown', () => {
    const checks = Array.from({ length: 14 }, (_, i) => ({
      name: `check ${i}`,
      ok: false,
      detail: 'x'.repeat(1000),
    }));
    const message = slackMessage({
      ...RUN,
      app: 'a'.repeat(40),
      kind: 'daily-health-failed',
      text: '14 failed',
      report: { ...REPORT, app: 'a'.repeat(200), checks },
    });
    const { header, section } = blocksOf(message.blocks);
    assert.ok(header.endsWith('…'));
    assert.match(section, /^14 of 14 checks failed:/);
    assert.match(section, /• …and 4 more$/);
  });

  it('carries no secret: the message is built from the notification alone', () => {
    // The notification type holds no URL of the webhook; the only URL in a message is the UI link.
    for (const { notification } of CASES) {
      const json = JSON.stringify(slackMessage(notification));
      const urls = json.match(/https?:\/\/[^\s|"<>]+/g) ?? [];
      for (const url of urls) {
        assert.ok(
          url === RUN.uiUrl || url.startsWith('http://127.0.0.1:4100/'),
          `unexpected URL in the message: ${url}`,
        );
      }
      assert.doesNotMatch(json, /hooks\.slack\.com|TOLLGATE_WEBHOOK_URL/);
    }
  });
});
