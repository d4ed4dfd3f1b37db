/**
 * The one envelope of every `--json` output (docs/cli-json.md): a schema version, the command that
 * wrote it, and the run's workflowId and runId wherever one run is concerned.
 */

/** Bumped when a field is removed or changes meaning; new fields do not bump it. */
export const CLI_JSON_SCHEMA_VERSION = 1;

/** How a run ended or stands, spelled one way on every JSON surface. */
export type RunOutcome = 'succeeded' | 'failed' | 'rolled-back' | 'cancelled' | 'running' | 'waiting-at-gate';

/** The envelope around a command's fields. */
export type JsonDocument<T extends object> = { schemaVersion: number; command: string } & T;

/** Wraps `fields` in the envelope. */
export function jsonDocument<T extends object>(
  command: string,
  fields: T & { schemaVersion?: never; command?: never },
): JsonDocument<T> {
  return { schemaVersion: CLI_JSON_SCHEMA_VERSION, command, ...fields };
}

/** Prints one envelope as the command's whole stdout (indented, like every other `--json`). */
export function printJson<T extends object>(
  command: string,
  fields: T & { schemaVersion?: never; command?: never },
): void {
  console.log(JSON.stringify(jsonDocument(command, fields), null, 2));
}
