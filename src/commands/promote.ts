/** `tollgate promote <run> [--by <name>]`: lets a release waiting at the gate into production. */
import { connectClient } from '../cli/connect.js';
import { decisionIdentity, sendDecision, type DecisionOptions } from '../cli/decision.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { printJson } from '../cli/json.js';
import { priorPromotion } from '../cli/promoted.js';
import { loadSettings } from '../settings.js';

/**
 * Promotes the run as --by (default: the CI actor, then the OS user), signed where the approver has a
 * key; exit 2 when refused. A repeat by an approver after the release was promoted exits 0, saying
 * who promoted it and when.
 */
export async function promote(run: string, options: DecisionOptions): Promise<number> {
  const by = decisionIdentity('promote', options);
  const { client, connection } = await connectClient(loadSettings());
  try {
    try {
      const result = await sendDecision(client, 'promote', run, by, options);
      const runId = (await client.workflow.getHandle(run).describe()).runId;
      if (options.json)
        printJson('promote', { workflowId: run, runId, by, ...result, alreadyPromoted: null });
      else console.log(`✓ promoted ${run} (by ${by})`);
      return ExitCode.Ok;
    } catch (error) {
      if (!(error instanceof ExitError) || error.code !== ExitCode.BadInput) throw error;
      const prior = await priorPromotion(client, run, by);
      if (!prior) throw error;
      if (options.json) {
        printJson('promote', {
          workflowId: run,
          runId: prior.runId,
          by,
          accepted: false,
          action: 'promote',
          phase: prior.phase,
          alreadyPromoted: { environment: prior.environment, by: prior.by, at: prior.at },
        });
      } else {
        console.log(
          `= ${run} was already promoted into ${prior.environment} by ${prior.by} at ${prior.at}; nothing to do (the run is ${prior.phase})`,
        );
      }
      return ExitCode.Ok;
    }
  } finally {
    await connection.close();
  }
}
