/**
 * `tollgate rollback <run> [--by <name>]`: rolls a running release back (at the gate or during verification).
 * `tollgate rollback --env <env> [--by <name>]`: returns an environment to its previous release after a run has finished.
 * --by defaults to the CI actor, then the OS user.
 */
import { randomUUID } from 'node:crypto';
import { signApproval } from '../approvals/sign.js';
import { loadConfigOrExit } from '../cli/config.js';
import { connectClient, runLink } from '../cli/connect.js';
import { decisionIdentity, sendDecision, type DecisionOptions } from '../cli/decision.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { laneId, startInLane } from '../cli/lane.js';
import { loadSettings } from '../settings.js';
import type { rollbackEnvironment } from '../workflows/rollback.js';

/** Options of `tollgate rollback`. */
export interface RollbackOptions extends DecisionOptions {
  env?: string;
  config?: string;
}

/** Rolls back a run, or an environment when --env is given. */
export async function rollback(run: string | undefined, options: RollbackOptions): Promise<number> {
  if (!run && !options.env)
    throw new ExitError(
      ExitCode.BadInput,
      'name a running release (tollgate rollback <run>) or an environment (--env production)',
    );
  if (run && options.env) throw new ExitError(ExitCode.BadInput, 'give either a run or --env, not both');
  const by = decisionIdentity('rollback', options);
  if (!options.reason?.trim() && options.env)
    throw new ExitError(ExitCode.BadInput, 'rollback --env needs --reason: it goes into the audit trail');
  const settings = loadSettings();
  const config = options.env ? await loadConfigOrExit(options.config) : undefined;
  const { client, connection, namespace } = await connectClient(settings);
  try {
    if (run) {
      await sendDecision(client, 'rollback', run, by, options);
      console.log(
        `✓ rollback of ${run} accepted (by ${by}); compensations are running — follow with \`tollgate status ${run}\``,
      );
      return ExitCode.Ok;
    }
    const link = config!.environments.find((l) => l.environment.name === options.env);
    if (!link) {
      throw new ExitError(
        ExitCode.BadInput,
        `${config!.configPath} has no environment "${options.env}": configured: ${config!.environments.map((l) => l.environment.name).join(', ') || 'none'}`,
      );
    }
    const environment = link.environment;
    // Signed like a promote where TOLLGATE_APPROVAL_SECRET is set: bound to this request's id, the lane,
    // the identity and the reason; the worker checks it before anything is rolled back.
    const requestId = randomUUID();
    const reason = options.reason!.trim();
    const secret = process.env.TOLLGATE_APPROVAL_SECRET || undefined;
    const signature = secret
      ? signApproval(secret, {
          workflowId: laneId(config!.app),
          runId: requestId,
          action: 'rollback',
          by,
          reason,
        })
      : undefined;
    // The rollback takes the app's release lane: it never races a release in flight.
    const handle = await startInLane<typeof rollbackEnvironment>(
      client,
      'rollbackEnvironment',
      {
        taskQueue: settings.taskQueue,
        workflowId: laneId(config!.app),
        args: [
          {
            app: config!.app,
            environment,
            by,
            reason,
            approvers: link.promotion.approvers,
            requestId,
            ...(signature ? { signature } : {}),
          },
        ],
        staticSummary: `Rollback ${config!.app} in ${environment.name} by ${by}`,
      },
      false,
      () => undefined,
    );
    const result = await handle.result().catch((error: unknown) => {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      throw new ExitError(
        ExitCode.Failed,
        `rollback failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      );
    });
    console.log(
      `✓ ${environment.name} rolled back: ${result.from ?? 'none'} → ${result.to ?? 'none'}\n  ${runLink(settings, namespace, handle.workflowId, handle.firstExecutionRunId)}`,
    );
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}
