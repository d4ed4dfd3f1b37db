/**
 * The Slack-compatible message of a notification: a `text` fallback (what notifications, logs and
 * receivers without blocks show) and `blocks` with a header, a section and a context line that
 * links to the run in the Temporal UI when its address is known. Pure: no I/O, no secrets.
 */
import type { Notification } from '../types.js';

/** A Slack incoming-webhook body (the subset Tollgate sends). */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** The block kinds Tollgate sends. */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

// Slack's limits: a header's text 150 characters, a section's 3000.
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FAILED_CHECKS_SHOWN = 10;

/** The environment a release notification concerns (schema 1 runs had one gate, before production). */
function environmentOf(notification: { environment?: string }): string {
  return notification.environment ?? 'production';
}

/** `commit 3f2a9c1d4e5b`: the commit a notification is about, as people read it. */
function commitOf(notification: { ref: string }): string {
  return `commit ${notification.ref.slice(0, 12)}`;
}

/** One line saying what happened; the jsonl record, the worker's log and the message's fallback use it. */
export function summaryOf(notification: Notification): string {
  switch (notification.kind) {
    case 'gate-waiting':
      return `${notification.app}: release ${notification.releaseId} (${commitOf(notification)}) is waiting at the gate before ${environmentOf(notification)} for ${notification.approvers.join(', ') || 'an approver'}; at ${notification.timeoutAt} it will ${notification.onTimeout === 'promote' ? 'be promoted' : 'be rolled back'}`;
    case 'promoted':
      return `${notification.app}: release ${notification.releaseId} (${commitOf(notification)}) was promoted to ${environmentOf(notification)} by ${notification.by}`;
    case 'rolled-back':
      return `${notification.app}: release ${notification.releaseId} (${commitOf(notification)}) was rolled back by ${notification.by}: ${notification.reason}`;
    case 'daily-health-failed':
      return notification.text;
  }
}

/** The Slack-compatible JSON body for a notification. */
export function slackMessage(notification: Notification): SlackMessage {
  return {
    text: summaryOf(notification),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(headerOf(notification), HEADER_MAX) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(sectionOf(notification), SECTION_MAX) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: contextOf(notification) }] },
    ],
  };
}

function headerOf(notification: Notification): string {
  switch (notification.kind) {
    case 'gate-waiting':
      return `${notification.app}: a release is waiting at the gate before ${environmentOf(notification)}`;
    case 'promoted':
      return `${notification.app}: promoted to ${environmentOf(notification)}`;
    case 'rolled-back':
      return `${notification.app}: release rolled back`;
    case 'daily-health-failed':
      return `${notification.report.app}: daily health check failed`;
  }
}

function sectionOf(notification: Notification): string {
  switch (notification.kind) {
    case 'gate-waiting':
      return [
        `Release ${code(notification.releaseId)} (${commitOf(notification)}) waits at the gate before ${escape(environmentOf(notification))} for a decision.`,
        `*Approvers:* ${escape(notification.approvers.join(', ') || 'anyone')}`,
        `*Decide by:* ${escape(notification.timeoutAt)} (then it is ${notification.onTimeout === 'promote' ? 'promoted' : 'rolled back'})`,
        `Decide with ${code(`tollgate promote ${notification.workflowId} --by <name>`)} or ${code(`tollgate rollback ${notification.workflowId} --by <name> --reason <why>`)}`,
      ].join('\n');
    case 'promoted':
      return `Release ${code(notification.releaseId)} (${commitOf(notification)}) was promoted to ${escape(environmentOf(notification))} by *${escape(notification.by)}*.`;
    case 'rolled-back':
      return [
        `Release ${code(notification.releaseId)} (${commitOf(notification)}) was rolled back by *${escape(notification.by)}*.`,
        `*Reason:* ${escape(notification.reason)}`,
      ].join('\n');
    case 'daily-health-failed': {
      const failed = notification.report.checks.filter((c) => !c.ok);
      const lines = failed
        .slice(0, FAILED_CHECKS_SHOWN)
        .map((c) => `• *${escape(c.name)}*: ${escape(clip(c.detail, 250))}`);
      if (failed.length > FAILED_CHECKS_SHOWN)
        lines.push(`• …and ${failed.length - FAILED_CHECKS_SHOWN} more`);
      return [`${failed.length} of ${notification.report.checks.length} checks failed:`, ...lines].join('\n');
    }
  }
}

function contextOf(notification: Notification): string {
  const run = `workflow ${code(notification.workflowId)}`;
  return notification.uiUrl ? `<${notification.uiUrl}|Open the run in the Temporal UI> · ${run}` : run;
}

/** Slack's mrkdwn reserves &, < and >. */
function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function code(text: string): string {
  return `\`${escape(text.replaceAll('`', "'"))}\``;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
