/** Looks up runs and reads their status (of either schema) for the CLI's read commands. */
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { ReleaseResult, ReleaseStatus } from '../types.js';
import { toSchema2 } from '../workflows/legacy/status.js';
import { canaryQuery, statusQuery } from '../workflows/messages.js';
import { ExitCode, ExitError } from './exit.js';

/** The run's description; exit 2 with a hint when no run has this id. */
export async function describeRun(client: Client, workflowId: string): Promise<WorkflowExecutionDescription> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new ExitError(
        ExitCode.BadInput,
        `no run ${workflowId}: check the id (deploys run as release-<app>); \`tollgate history --json\` lists recent runs with their workflowId`,
      );
    }
    throw error;
  }
}

/**
 * The run's live status in the schema 2 shape (a 0.1 run in flight answers with schema 1). A canary
 * window runs as a child workflow: its live progress comes from there (the release's own copy is as
 * of the window's start), or stays as the release has it when the child cannot answer.
 */
export async function queryStatus(handle: WorkflowHandle): Promise<ReleaseStatus> {
  const status = toSchema2(await handle.query(statusQuery));
  await Promise.all(
    Object.values(status.environments).map(async (env) => {
      const window = env.canary?.window;
      if (!window || env.canary?.state !== 'running') return;
      const live = await handle.client
        .getHandle(window)
        .query(canaryQuery)
        .catch(() => undefined);
      if (live) env.canary = { ...live, window };
    }),
  );
  return status;
}

/** A status found in a run's result or failure details, in the schema 2 shape. */
export function statusFrom(value: unknown): ReleaseStatus | undefined {
  return value && typeof value === 'object' && 'app' in value ? toSchema2(value as ReleaseStatus) : undefined;
}

/** How a closed release run ended, read from its history alone (no worker needed). */
export interface ClosedRun {
  outcome: ReleaseResult['outcome'];
  exitCode: ExitCode;
  /** The final status the run returned (or attached to its failure); absent when it left none. */
  status: ReleaseStatus | undefined;
  /** The failure's message, when it failed. */
  message?: string;
}

/** Reads a closed run's result or failure: 0 succeeded, 1 failed or rolled back, 4 cancelled. */
export async function readClosedRun(handle: WorkflowHandle): Promise<ClosedRun> {
  try {
    const result = (await handle.result()) as Partial<ReleaseResult> | undefined;
    const status = statusFrom(result?.status);
    const outcome = result?.outcome ?? 'succeeded';
    const exitCode =
      outcome === 'succeeded' ? ExitCode.Ok : outcome === 'cancelled' ? ExitCode.Cancelled : ExitCode.Failed;
    return { outcome, exitCode, status };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const cause = error.cause;
    const cancelled =
      cause instanceof CancelledFailure ||
      cause instanceof TerminatedFailure ||
      cause instanceof TimeoutFailure;
    const status =
      cause && 'details' in cause && Array.isArray(cause.details) ? statusFrom(cause.details[0]) : undefined;
    return {
      outcome: cancelled ? 'cancelled' : status?.phase === 'rolled-back' ? 'rolled-back' : 'failed',
      exitCode: cancelled ? ExitCode.Cancelled : ExitCode.Failed,
      status,
      message: cause?.message ?? error.message,
    };
  }
}

/** The run's final status (closed: from its history) or, while running, its live status (from a worker). */
export async function releaseStatus(
  client: Client,
  info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status'>,
): Promise<ReleaseStatus | undefined> {
  const handle = client.workflow.getHandle(info.workflowId, info.runId);
  if (info.status.name === 'RUNNING') return queryStatus(handle).catch(() => undefined);
  return (await readClosedRun(handle)).status;
}

/** A run's input, from the first event of its history (one small RPC); undefined when unreadable. */
export async function startInput<T>(
  client: Client,
  info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId'>,
): Promise<T | undefined> {
  try {
    const response = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: info.workflowId, runId: info.runId },
      maximumPageSize: 1,
    });
    let payloads = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    if (!payloads?.[0]) return undefined;
    const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
    for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    return payloadConverter.fromPayload<T>(payloads[0]!);
  } catch {
    return undefined;
  }
}
