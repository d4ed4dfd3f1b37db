/**
 * A Temporal namespace ready for Tollgate on a self-hosted server: registered when missing, with
 * Tollgate's search attributes (src/constants.ts) added when missing, and usable in list queries
 * before it returns. The dev server gets both from `tollgate dev`; a cluster gets them from
 * `tollgate namespace` (scripts/cluster runs it) and the cluster test lane from this function.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../constants.js';

const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
/** gRPC status codes the server answers with. */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

/** What ensureNamespace found and did. */
export interface NamespaceSetup {
  namespace: string;
  created: boolean;
  /** Search attributes this call added (empty when all were there). */
  added: string[];
  retentionDays: number;
}

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Registers `namespace` (retention `retentionDays`) unless it exists, adds the search attributes it
 * lacks, then waits until a list query on every one of them is accepted: a namespace or attribute
 * added a moment ago reaches the frontend's caches only after their refresh (2 s by default).
 */
export async function ensureNamespace(
  connection: Connection,
  namespace: string,
  options: { retentionDays?: number; timeoutMs?: number } = {},
): Promise<NamespaceSetup> {
  const retentionDays = options.retentionDays ?? 7;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const service = connection.workflowService;
  let created = false;
  try {
    await service.describeNamespace({ namespace });
  } catch (error) {
    if (grpcCode(error) !== NOT_FOUND) throw error;
    try {
      await service.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${retentionDays}d`),
        description: 'Tollgate releases',
      });
      created = true;
    } catch (registerError) {
      if (grpcCode(registerError) !== ALREADY_EXISTS) throw registerError;
    }
  }

  const wanted = Object.values(SEARCH_ATTRIBUTES);
  const present = await untilAccepted(deadline, async () =>
    Object.keys(
      (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {},
    ),
  );
  const added = wanted.filter((name) => !present.includes(name));
  if (added.length > 0) {
    await untilAccepted(deadline, () =>
      connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(added.map((name) => [name, KEYWORD])),
      }),
    );
  }
  const query = wanted.map((name) => `${name} = 'tollgate-namespace-probe'`).join(' AND ');
  await untilAccepted(deadline, () => service.listWorkflowExecutions({ namespace, query, pageSize: 1 }));
  return { namespace, created, added, retentionDays };
}

/** Calls `attempt` until it resolves; a NOT_FOUND or INVALID_ARGUMENT (caches not refreshed yet) is retried until `deadline`. */
async function untilAccepted<T>(deadline: number, attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const code = grpcCode(error);
      const refreshing = code === NOT_FOUND || code === INVALID_ARGUMENT;
      if (!refreshing || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}
