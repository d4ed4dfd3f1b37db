/**
 * The notify activity: every notification is logged and appended to `<home>/notifications.jsonl`
 * (the local audit, and all there is when no webhook is configured); the kinds the plan's webhook
 * subscribes to are POSTed as Slack-compatible JSON to the URL the worker resolves from its secret.
 * Retries are the workflow's retry policy; a failure here never fails a release (see workflows/notify.ts).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Context, log } from '@temporalio/activity';
import { slackMessage, summaryOf } from '../notify/slack.js';
import { postWebhook } from '../notify/webhook.js';
import type { Notification, NotificationPlan } from '../types.js';
import { resolveSecrets } from './secrets.js';

/** What the notify activity needs from the worker. */
export interface NotifyDeps {
  /** Tollgate's state directory; notifications go to `<home>/notifications.jsonl`. */
  home: string;
  /** The worker's environment: the webhook URL by the name the plan gives. */
  secretSource: NodeJS.ProcessEnv;
  /** Told each secret value the activity resolves, so the worker's logs redact it. */
  onSecrets?: (values: Record<string, string>) => void;
}

/** What one notify attempt did. */
export interface NotifyResult {
  /** True when the webhook took it; false when the plan sends this kind to no webhook. */
  delivered: boolean;
}

/** Builds the notify activity. */
export function createNotifyActivities(deps: NotifyDeps) {
  /** One line per attempt; readers dedupe by (workflowId, runId, kind). */
  const record = (notification: Notification, text: string, webhook?: string): void => {
    const { info } = Context.current();
    mkdirSync(deps.home, { recursive: true });
    const line = {
      at: new Date().toISOString(),
      ...notification,
      workflowId: info.workflowExecution?.workflowId,
      runId: info.workflowExecution?.runId,
      attempt: info.attempt,
      text,
      ...(webhook === undefined ? {} : { webhook }),
    };
    appendFileSync(join(deps.home, 'notifications.jsonl'), `${JSON.stringify(line)}\n`);
  };

  return {
    /** Tells a human: logs and records the notification, and sends it to the plan's webhook when it subscribes to its kind. */
    async notify(notification: Notification, plan?: NotificationPlan): Promise<NotifyResult> {
      const text = summaryOf(notification);
      if (notification.kind === 'rolled-back' || notification.kind === 'daily-health-failed') {
        log.warn(text, { kind: notification.kind });
      } else {
        log.info(text, { kind: notification.kind });
      }
      const webhook = plan?.webhook?.events.includes(notification.kind) ? plan.webhook : undefined;
      if (!webhook) {
        record(notification, text);
        return { delivered: false };
      }
      try {
        const secretName = webhook.urlSecret;
        const url = resolveSecrets([secretName], deps.secretSource, 'the webhook notifier')[secretName]!;
        // Whatever the secret is called, the worker's logs redact its value from now on.
        deps.onSecrets?.({ [secretName]: url });
        const { status } = await postWebhook({ url, secretName }, slackMessage(notification));
        recordQuietly(notification, text, `delivered (${status})`);
        return { delivered: true };
      } catch (error) {
        recordQuietly(
          notification,
          text,
          `failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        throw error;
      }
    },
  };

  /** With a webhook the record is the audit, not the delivery: failing to write it must not resend. */
  function recordQuietly(notification: Notification, text: string, webhook: string): void {
    try {
      record(notification, text, webhook);
    } catch (error) {
      log.warn(`could not record the notification in ${join(deps.home, 'notifications.jsonl')}`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
