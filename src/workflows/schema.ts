/** Which schema a workflow input has: schema 2 (0.2 and later) or the frozen schema 1 of ./legacy/. */

/** Marks runs started on 0.2 workers: a schema 1 input among them came from an old client, and is refused. */
export const SCHEMA_1_REFUSED = 'schema-1-refused';

/** True for inputs of `tollgate` 0.2 and later. */
export function isSchema2(input: object): boolean {
  return (input as { schemaVersion?: unknown }).schemaVersion === 2;
}
