/** `tollgate promote <run> [--by <name>]`: lets a release waiting at the gate into production. */
import { connectClient } from '../cli/connect.js';
import { decisionIdentity, sendDecision, type DecisionOptions } from '../cli/decision.js';
import { ExitCode } from '../cli/exit.js';
import { loadSettings } from '../settings.js';

/** Promotes the run as --by (default: the CI actor, then the OS user), signed when TOLLGATE_APPROVAL_SECRET is set; exit 2 when refused. */
export async function promote(run: string, options: DecisionOptions): Promise<number> {
  const by = decisionIdentity('promote', options);
  const { client, connection } = await connectClient(loadSettings());
  try {
    const result = await sendDecision(client, 'promote', run, by, options);
    console.log(options.json ? JSON.stringify(result) : `✓ promoted ${run} (by ${by})`);
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}
