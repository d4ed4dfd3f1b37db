/**
 * `tollgate rollback <run> [--by <name>]`: rolls a running release back (at the gate or during verification).
 * `tollgate rollback --env <env> [--by <name>]`: returns an environment to its previous release after a run has finished.
 * --by defaults to the CI actor, then the OS user.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { FailureType } from '../failures.js';
import { signDecision } from '../approvals/sign.js';
import { loadConfigOrExit } from '../cli/config.js';
import { connectClient, runLink } from '../cli/connect.js';
import { decisionIdentity, sendDecision, type DecisionOptions } from '../cli/decision.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { printJson } from '../cli/json.js';
import { laneId } from '../cli/lane.js';
import { loadSettings } from '../settings.js';
import { SEARCH_KEYS } from '../workflows/ui.js';
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
      const result = await sendDecision(client, 'rollback', run, by, options);
      if (options.json) {
        const runId = (await client.workflow.getHandle(run).describe()).runId;
        printJson('rollback', { workflowId: run, runId, by, ...result });
      } else {
        console.log(
          `✓ rollback of ${run} accepted (by ${by}); compensations are running — follow with \`tollgate status ${run}\``,
        );
      }
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
    const app = config!.app;
    await refuseDuringRelease(client, app, environment.name);
    // Signed like a promote where TOLLGATE_APPROVER_KEY is set: bound to this request's id, its
    // workflow, the identity and the reason; the worker checks it before anything is rolled back.
    const requestId = randomUUID();
    // Its own workflow, never the release lane's: `status release-<app>` stays the release's.
    const workflowId = environmentRollbackId(app, environment.name, requestId);
    const reason = options.reason!.trim();
    const signature = signDecision({ workflowId, runId: requestId, action: 'rollback', by, reason });
    const handle = await client.workflow.start<typeof rollbackEnvironment>('rollbackEnvironment', {
      taskQueue: settings.taskQueue,
      workflowId,
      args: [
        {
          app,
          environment,
          by,
          reason,
          approvers: link.promotion.approvers,
          requestId,
          ...(signature ? { signature } : {}),
        },
      ],
      staticSummary: `Rollback ${app} in ${environment.name} by ${by}`,
      // Found in the UI and by `history` beside the app's releases.
      typedSearchAttributes: [
        { key: SEARCH_KEYS.app, value: app },
        { key: SEARCH_KEYS.environment, value: environment.name },
      ],
    });
    const result = await handle.result().catch((error: unknown) => {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      const message = cause instanceof Error ? cause.message : String(cause);
      // Refused (not an approver, a bad signature): a decision refused, as promote's are; recorded by the workflow.
      const refused =
        cause instanceof ApplicationFailure &&
        (cause.type === FailureType.InvalidConfig || cause.type === FailureType.ApprovalRefused);
      throw new ExitError(
        refused ? ExitCode.BadInput : ExitCode.Failed,
        `rollback ${refused ? 'refused' : 'failed'}: ${message}`,
      );
    });
    const runId = handle.firstExecutionRunId;
    const url = runLink(settings, namespace, workflowId, runId);
    if (options.json) {
      printJson('rollback', {
        workflowId,
        runId,
        url,
        app,
        environment: environment.name,
        by,
        from: result.from,
        to: result.to,
        changed: result.changed !== false,
        at: result.at ?? null,
      });
    } else if (result.changed === false) {
      console.log(
        `= ${environment.name} unchanged: it already serves ${result.to ?? 'nothing'} (rolled back from ${result.from ?? 'none'}${result.at ? ` at ${result.at}` : ''}); nothing was rolled back or counted\n  ${url}`,
      );
    } else {
      console.log(
        `✓ ${environment.name} rolled back: ${result.from ?? 'none'} → ${result.to ?? 'none'}\n  ${url}`,
      );
    }
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}

/** The workflow id of an environment rollback: its own per request, findable by app and environment. */
export function environmentRollbackId(app: string, environment: string, requestId: string): string {
  return `rollback-${app}-${environment}-${requestId.slice(0, 8)}`;
}

/**
 * An environment is not rolled back under a release in flight (which would deploy over it): that
 * release is rolled back as a run instead, or its end awaited.
 */
async function refuseDuringRelease(client: Client, app: string, environment: string): Promise<void> {
  const lane = laneId(app);
  const description = await client.workflow
    .getHandle(lane)
    .describe()
    .catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
  if (description?.status.name === 'RUNNING') {
    throw new ExitError(
      ExitCode.LaneBusy,
      `a release of ${app} is in flight (${lane}, run ${description.runId}): roll that release back with \`tollgate rollback ${lane}\`, or wait for it to end before rolling ${environment} back`,
    );
  }
}
