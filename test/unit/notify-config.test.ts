/** The config's `notifications` block: defaults, the plan it resolves to, and errors that say what to fix. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/index.js';

const CONFIG_PATH = join(mkdtempSync(join(tmpdir(), 'tollgate-notify-config-')), 'tollgate.config.ts');

function resolveWith(notifications: unknown) {
  return resolveConfig(
    {
      app: 'demo',
      source: '.',
      stages: { 'test-suite': { steps: [['true']] } },
      ...(notifications === undefined ? {} : { notifications }),
    },
    CONFIG_PATH,
  );
}

/** The single problem a bad block causes. */
function problemOf(notifications: unknown): {
  path: string;
  message: string;
  received?: string;
  text: string;
} {
  try {
    resolveWith(notifications);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.problems.length, 1, error.message);
    return { ...error.problems[0]!, text: error.message };
  }
  assert.fail('the config should have been refused');
}

describe('notifications config', () => {
  it('is optional: without it the plan has no webhook', () => {
    assert.equal(resolveWith(undefined).notifications, undefined);
    assert.equal(resolveWith({}).notifications, undefined);
  });

  it('names the secret and sends every kind by default', () => {
    assert.deepEqual(resolveWith({ webhook: { urlSecret: 'TOLLGATE_WEBHOOK_URL' } }).notifications, {
      webhook: {
        urlSecret: 'TOLLGATE_WEBHOOK_URL',
        events: ['gate-waiting', 'promoted', 'rolled-back', 'daily-health-failed'],
      },
    });
  });

  it('sends only the events listed', () => {
    const plan = resolveWith({
      webhook: { urlSecret: 'HOOK', events: ['rolled-back', 'daily-health-failed'] },
    }).notifications;
    assert.deepEqual(plan?.webhook?.events, ['rolled-back', 'daily-health-failed']);
  });

  it('refuses the URL written in place of the secret name, without repeating it', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/notarealtoken';
    const problem = problemOf({ webhook: { urlSecret: url } });
    assert.equal(problem.path, 'notifications.webhook.urlSecret');
    assert.match(
      problem.message,
      /is the webhook URL itself, which is a secret: export it where the worker runs/,
    );
    assert.equal(problem.received, '(a secret; not shown)');
    assert.ok(!problem.text.includes('notarealtoken'), problem.text);
  });

  it('refuses a secret name that is not an env var name', () => {
    const problem = problemOf({ webhook: { urlSecret: 'webhook-url' } });
    assert.equal(problem.path, 'notifications.webhook.urlSecret');
    assert.match(problem.message, /must be the NAME of the environment variable that holds the webhook URL/);
    assert.equal(problem.received, '"webhook-url"');
  });

  it('requires the secret name', () => {
    const problem = problemOf({ webhook: {} });
    assert.equal(problem.path, 'notifications.webhook.urlSecret');
    assert.match(problem.message, /^is required: the NAME of the environment variable/);
  });

  it('refuses an unknown event, listing the known ones', () => {
    const problem = problemOf({ webhook: { urlSecret: 'HOOK', events: ['promoted', 'deployed'] } });
    assert.equal(problem.path, 'notifications.webhook.events.1');
    assert.match(
      problem.message,
      /must be one of "gate-waiting", "promoted", "rolled-back", "daily-health-failed"/,
    );
    assert.equal(problem.received, '"deployed"');
  });

  it('refuses an empty event list', () => {
    const problem = problemOf({ webhook: { urlSecret: 'HOOK', events: [] } });
    assert.equal(problem.path, 'notifications.webhook.events');
    assert.match(problem.message, /leave it out to send every kind/);
  });

  it('names an unknown key, so `url` is caught as a typo without showing its value', () => {
    const problem = problemOf({ webhook: { urlSecret: 'HOOK', url: 'https://hooks.example/secret' } });
    assert.equal(problem.path, 'notifications.webhook');
    assert.match(
      problem.message,
      /has no key "url": check the spelling; the keys here are urlSecret, events/,
    );
    assert.equal(problem.received, undefined);
  });
});
