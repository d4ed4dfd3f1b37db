/**
 * `tollgate lane unlock [app] --by <name> --reason <text>`: clears the rollback brake of an app's
 * release lane (after `rollbackBrake.limit` automatic rollbacks within its window the lane refuses
 * releases). The unlock is a workflow of its own on the worker's queue, so it lands on the same
 * audit trail the brake reads, with who and why.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/client';
import { loadConfigOrExit } from '../cli/config.js';
import { connectClient, runLink } from '../cli/connect.js';
import { decisionIdentity, type DecisionOptions } from '../cli/decision.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { loadSettings } from '../settings.js';
import { SEARCH_KEYS } from '../workflows/ui.js';
import type { laneUnlock } from '../workflows/lane.js';

/** Options of `tollgate lane unlock`. */
export interface LaneUnlockOptions extends DecisionOptions {
  config?: string;
}

/** Clears the brake of `app` (the config's app by default). */
export async function unlockLane(app: string | undefined, options: LaneUnlockOptions): Promise<number> {
  const by = decisionIdentity('rollback', options);
  const reason = options.reason?.trim();
  if (!reason)
    throw new ExitError(ExitCode.BadInput, 'lane unlock needs --reason: it goes into the audit trail');
  const config = await loadConfigOrExit(options.config);
  const name = app ?? config.app;
  if (name !== config.app) {
    throw new ExitError(
      ExitCode.BadInput,
      `${name} is not the app of ${config.configPath} (${config.app}): run this where its config is, or pass --config`,
    );
  }
  const settings = loadSettings();
  const { client, connection, namespace } = await connectClient(settings);
  try {
    const workflowId = `lane-unlock-${name}-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start<typeof laneUnlock>('laneUnlock', {
      taskQueue: settings.taskQueue,
      workflowId,
      args: [{ app: name, by, reason, approvers: config.environments.at(-1)?.promotion.approvers ?? [] }],
      staticSummary: `Unlock the release lane of ${name} by ${by}`,
      typedSearchAttributes: [{ key: SEARCH_KEYS.app, value: name }],
    });
    await handle.result().catch((error: unknown) => {
      const cause = error instanceof Error && error.cause instanceof ApplicationFailure ? error.cause : error;
      throw new ExitError(
        ExitCode.BadInput,
        `lane unlock refused: ${cause instanceof Error ? cause.message : String(cause)}`,
      );
    });
    console.log(
      `✓ the release lane of ${name} is unlocked (by ${by}): automatic rollbacks before now no longer count\n  ${runLink(settings, namespace, workflowId, handle.firstExecutionRunId)}`,
    );
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}
