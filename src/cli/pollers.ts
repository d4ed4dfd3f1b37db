/** Whether any worker polls a task queue, from the server's task-queue description (doctor, run --wait). */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { TaskQueueType, TaskQueueKind } = proto.temporal.api.enums.v1;

/**
 * A worker in a long poll re-polls about once a minute, and the server keeps a poller listed for
 * minutes after it stopped: a poller last seen longer ago than this is counted as gone.
 */
export const POLLER_FRESH_MS = 90_000;

/** One worker seen polling the queue. */
export interface Poller {
  identity: string;
  /** Milliseconds since the server last saw it poll. */
  lastSeenMs: number;
}

/** The workers polling `taskQueue` for workflow tasks and for activity tasks, last seen within POLLER_FRESH_MS. */
export async function taskQueuePollers(
  client: Client,
  taskQueue: string,
  now: number = Date.now(),
): Promise<{ workflow: Poller[]; activity: Poller[] }> {
  const describe = async (type: proto.temporal.api.enums.v1.TaskQueueType): Promise<Poller[]> => {
    const response = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: type,
    });
    return (response.pollers ?? [])
      .map((p) => ({
        identity: p.identity ?? 'unknown',
        lastSeenMs: p.lastAccessTime?.seconds ? now - Number(p.lastAccessTime.seconds) * 1000 : Infinity,
      }))
      .filter((p) => p.lastSeenMs <= POLLER_FRESH_MS);
  };
  const [workflow, activity] = await Promise.all([
    describe(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    describe(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
  ]);
  return { workflow, activity };
}

/** The line printed when nobody polls: what is missing and how to start it. */
export function noWorkerMessage(taskQueue: string, address: string): string {
  return `no worker polls task queue ${taskQueue} on ${address}: start one with \`tollgate worker\` (same TEMPORAL_ADDRESS, TOLLGATE_TASK_QUEUE) or \`npm run worker\``;
}
