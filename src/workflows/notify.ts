/**
 * Notifications from workflow code: `notifyInBackground` starts the notify activity with its own
 * retry policy and never throws, so a webhook that is down or misconfigured never fails a release.
 */
import { CancellationScope, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { Notification, NotificationPlan, RetryPlan } from '../types.js';

/** A notification before the helper adds the run it comes from (workflow ID, Temporal UI link). */
export type NotificationDraft = Draft<Notification>;
type Draft<N> = N extends unknown ? Omit<N, 'workflowId' | 'uiUrl'> : never;

/** The notify activity's retry policy in production: about a minute of retries, then give up. */
export const NOTIFY_RETRY: RetryPlan = {
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maximumIntervalMs: 30_000,
  maximumAttempts: 6,
};

/** One attempt: the webhook's own timeout is 10 s (notify/webhook.ts). */
export const NOTIFY_START_TO_CLOSE = '15 seconds';

/**
 * Sends a notification through the notify activity; resolves when it was delivered or given up
 * (logged as a workflow warning). Await the promise before the workflow returns.
 */
export function notifyInBackground(
  plan: NotificationPlan | undefined,
  draft: NotificationDraft,
): Promise<void> {
  const { namespace, workflowId, runId } = workflowInfo();
  const notification: Notification = {
    ...draft,
    workflowId,
    ...(plan?.uiUrl ? { uiUrl: runPage(plan.uiUrl, namespace, workflowId, runId) } : {}),
  };
  const retry = { ...NOTIFY_RETRY, ...plan?.retry };
  const { notify } = proxyActivities<Activities>({
    summary: `notify ${draft.kind}`,
    startToCloseTimeout: NOTIFY_START_TO_CLOSE,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      maximumAttempts: retry.maximumAttempts,
    },
  });
  // Not cancellable: a rollback's notice must still go out while the run is being cancelled; the
  // retry policy bounds how long that takes.
  return CancellationScope.nonCancellable(() => notify(notification, plan)).then(
    () => undefined,
    (error: unknown) => {
      log.warn(`the ${draft.kind} notification was not delivered`, {
        kind: draft.kind,
        error: messageOf(error),
      });
    },
  );
}

/** The run's page in the Temporal UI (as cli/connect.ts's runLink builds it). */
function runPage(uiUrl: string, namespace: string, workflowId: string, runId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}`;
}

/** The innermost message of a failure (an ActivityFailure wraps the activity's own error). */
function messageOf(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
