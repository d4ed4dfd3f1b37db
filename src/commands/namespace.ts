/** `tollgate namespace`: the namespace of TEMPORAL_NAMESPACE made ready on a self-hosted Temporal server. */
import { connectClient } from '../cli/connect.js';
import { ExitCode } from '../cli/exit.js';
import { printJson } from '../cli/json.js';
import { ensureNamespace } from '../cli/namespace.js';
import { loadSettings } from '../settings.js';

/** Options of `tollgate namespace`. */
export interface NamespaceOptions {
  retentionDays: number;
  json?: boolean;
}

/** Registers the namespace and Tollgate's search attributes where missing; says what it did. */
export async function namespace(options: NamespaceOptions): Promise<number> {
  const { connection, namespace } = await connectClient(loadSettings());
  try {
    const setup = await ensureNamespace(connection, namespace, { retentionDays: options.retentionDays });
    if (options.json) printJson('namespace', { ...setup });
    else
      console.log(
        `${setup.created ? `Registered namespace ${namespace} (retention ${setup.retentionDays} d)` : `Namespace ${namespace} exists`}; ` +
          (setup.added.length > 0
            ? `search attributes added: ${setup.added.join(', ')}`
            : 'every Tollgate search attribute was there'),
      );
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}
