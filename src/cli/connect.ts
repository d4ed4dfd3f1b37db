/** Connects the CLI to Temporal, turning an unreachable server into exit code 3 with a hint. */
import { Client, Connection } from '@temporalio/client';
import type { Settings } from '../settings.js';
import { ExitCode, ExitError } from './exit.js';

/** A connected client; the caller closes `connection` when done. */
export async function connectClient(
  settings: Settings,
): Promise<{ client: Client; connection: Connection; namespace: string }> {
  const { connectionOptions, namespace = 'default' } = settings.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions, connectTimeout: 5000 });
  } catch (error) {
    throw new ExitError(
      ExitCode.Unreachable,
      `cannot reach the Temporal server at ${connectionOptions.address ?? 'localhost:7233'} (${error instanceof Error ? error.message : String(error)}): start one with \`tollgate dev\`, or set TEMPORAL_ADDRESS`,
    );
  }
  // The data converter encrypts what the client sends and decrypts what it reads (when keys are set).
  const client = new Client({ connection, namespace, dataConverter: settings.dataConverter });
  return { client, connection, namespace };
}

/** The Temporal UI page of a run. */
export function runLink(settings: Settings, namespace: string, workflowId: string, runId?: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}
