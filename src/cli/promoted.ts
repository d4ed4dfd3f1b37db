/**
 * A promote repeated after the release moved on (a CI step that retries): who let it through, and
 * when, so the repeat can exit 0 instead of failing a job whose wish came true.
 */
import type { Client } from '@temporalio/client';
import type { ReleaseInput, ReleaseStatus } from '../types.js';
import { queryStatus, readClosedRun, startInput } from './runs.js';

/** The promotion a repeated promote finds. */
export interface PriorPromotion {
  workflowId: string;
  runId: string;
  environment: string;
  by: string;
  at: string;
  /** Where the run is now (it may have been rolled back since). */
  phase: ReleaseStatus['phase'];
}

/**
 * The run's latest accepted promotion, when no gate of it waits now and `by` is an approver of that
 * gate (a non-approver's repeat stays refused); undefined otherwise.
 */
export async function priorPromotion(
  client: Client,
  workflowId: string,
  by: string,
): Promise<PriorPromotion | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe().catch(() => undefined);
  if (!description) return undefined;
  const status =
    description.status.name === 'RUNNING'
      ? await queryStatus(handle).catch(() => undefined)
      : (await readClosedRun(handle).catch(() => undefined))?.status;
  if (!status) return undefined;
  const gates = Object.entries(status.environments).map(([name, env]) => ({ name, gate: env.gate }));
  if (gates.some((g) => g.gate?.state === 'waiting')) return undefined;
  const promoted = gates.filter((g) => g.gate?.state === 'promoted').at(-1);
  if (!promoted) return undefined;
  const entry = [...status.audit]
    .reverse()
    .find(
      (e) =>
        (e.action === 'promote' || e.action === 'auto-promote') &&
        e.outcome === 'accepted' &&
        e.environment === promoted.name,
    );
  if (!entry) return undefined;
  const input = await startInput<Partial<ReleaseInput>>(client, description);
  const approvers =
    input?.environments?.find((l) => l.environment.name === promoted.name)?.promotion.approvers ?? [];
  if (approvers.length > 0 && !approvers.includes(by)) return undefined;
  return {
    workflowId,
    runId: description.runId,
    environment: promoted.name,
    by: entry.by,
    at: entry.at,
    phase: status.phase,
  };
}
