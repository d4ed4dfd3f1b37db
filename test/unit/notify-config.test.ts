/** The config's `notifications` block: defaults, the plan it resolves to, and errors that say what to fix. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, resolveConfig, type ResolvedConfig } from '../../src/config/index.js';
import { fixtureRepo } from '../support/stages.js';

// A config lives in a git repository (the default `repository` is the one holding it).
const CONFIG_DIR = mkdtempSync(join(tmpdir(), 'tollgate-notify-config-'));
fixtureRepo(CONFIG_DIR);
const CONFIG_PATH = join(CONFIG_DIR, 'tollgate.config.ts');
after(() => rmSync(CONFIG_DIR, { recursive: true, force: true }));

function resolveWith(notifications: unknown): Promise<ResolvedConfig> {
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
async function problemOf(notifications: unknown): Promise<{
  path: string;
  message: string;
  received?: string;
  text: string;
}> {
  try {
    await resolveWith(notifications);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.problems.length, 1, error.message);
    return { ...error.problems[0]!, text: error.message };
  }
  assert.fail('the config should have been refused');
}

describe('notifications config', () => {
  it('is optional: without it the plan has no webhook', async () => {
    assert.equal((await resolveWith(undefined)).notifications, undefined);
    assert.equal((await resolveWith({})).notifications, undefined);
  });

  it('names the secret and sends every kind by default', async () => {
    assert.deepEqual((await resolveWith({ webhook: { urlSecret: 'TOLLGATE_WEBHOOK_URL' } })).notifications, {
      webhook: {
        urlSecret: 'TOLLGATE_WEBHOOK_URL',
        events: ['gate-waiting', 'promoted', 'rolled-back', 'daily-health-failed'],
      },
    });
  });

  it('sends only the events listed', async () => {
    const plan = (
      await resolveWith({
        webhook: { urlSecret: 'HOOK', events: ['rolled-back', 'daily-health-failed'] },
      })
    ).notifications;
    assert.deepEqual(plan?.webhook?.events, ['rolled-back', 'daily-health-failed']);
  });

  it('refuses the URL written in place of the secret name, without repeating it', async () => {
    const url = 'https://hooks.slack.com/services/T000/B000/notarealtoken';
    const problem = await problemOf({ webhook: { urlSecret: url } });
    assert.equal(problem.path, 'notifications.webhook.urlSecret');
    assert.match(
      problem.message,
      /is the webhook URL itself, which is a secret: export it where the worker runs/,
    );
    assert.equal(problem.received, '(a secret; not shown)');
    assert.ok(!problem.text.includes('notarealtoken'), problem.text);
  });

  it('refuses a secret name that is not an env var name', async () => {
    const problem = await problemOf({ webhook: { urlSecret: 'webhook-url' } });
    assert.equal(problem.path, 'notifications.webhook.urlSecret');
    assert.match(problem.message, /must be the NAME of the environment variable that holds the webhook URL/);
    assert.equal(problem.received, '"webhook-url"');
  });

  it('requires the secret name', async () => {
    const problem = await problemOf({ webhook: {} });
    assert.equal(problem.path, 'notifications.webhook.urlSecret');
    assert.match(problem.message, /^is required: the NAME of the environment variable/);
  });

  it('refuses an unknown event, listing the known ones', async () => {
    const problem = await problemOf({ webhook: { urlSecret: 'HOOK', events: ['promoted', 'deployed'] } });
    assert.equal(problem.path, 'notifications.webhook.events.1');
    assert.match(
      problem.message,
      /must be one of "gate-waiting", "promoted", "rolled-back", "daily-health-failed"/,
    );
    assert.equal(problem.received, '"deployed"');
  });

  it('refuses an empty event list', async () => {
    const problem = await problemOf({ webhook: { urlSecret: 'HOOK', events: [] } });
    assert.equal(problem.path, 'notifications.webhook.events');
    assert.match(problem.message, /leave it out to send every kind/);
  });

  it('names an unknown key, so `url` is caught as a typo without showing its value', async () => {
    const problem = await problemOf({ webhook: { urlSecret: 'HOOK', url: 'https://hooks.example/secret' } });
    assert.equal(problem.path, 'notifications.webhook');
    assert.match(
      problem.message,
      /has no key "url": check the spelling; the keys here are urlSecret, events/,
    );
    assert.equal(problem.received, undefined);
  });
});
