/** `tollgate promote <run> --by <name>`: lets a release waiting at the gate into production. */
import { connectClient } from '../cli/connect.js';
import { sendDecision, type DecisionOptions } from '../cli/decision.js';
import { ExitCode } from '../cli/exit.js';
import { loadSettings } from '../settings.js';

/** Promotes the run; exit 2 when refused (not an approver, not waiting at the gate). */
export async function promote(run: string, options: DecisionOptions): Promise<number> {
  const { client, connection } = await connectClient(loadSettings());
  try {
    const result = await sendDecision(client, 'promote', run, options);
    console.log(options.json ? JSON.stringify(result) : `✓ promoted ${run} (by ${options.by})`);
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}
