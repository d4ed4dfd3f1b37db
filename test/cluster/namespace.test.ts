/** `tollgate namespace` on the self-hosted cluster: registers a namespace with Tollgate's search attributes once, then leaves it. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { parseCliJson } from '../../src/cli/json-schemas.js';
import { SEARCH_ATTRIBUTES } from '../../src/constants.js';
import { runCli } from '../support/cli.js';
import { TEST_CLUSTER } from '../support/temporal.js';

describe('tollgate namespace', { skip: !TEST_CLUSTER && 'cluster lane only: scripts/test --cluster' }, () => {
  it('registers the namespace and the search attributes, then finds them there; runs are listed by them', async () => {
    const namespace = `test-namespace-${randomUUID().slice(0, 8)}`;
    const env = { ...process.env, TEMPORAL_ADDRESS: TEST_CLUSTER!, TEMPORAL_NAMESPACE: namespace };

    const first = await runCli(['namespace', '--retention-days', '2', '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const setup = parseCliJson('namespace', first.stdout);
    assert.equal(setup.created, true);
    assert.deepEqual(setup.added, Object.values(SEARCH_ATTRIBUTES));
    assert.equal(setup.retentionDays, 2);

    const again = await runCli(['namespace'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      new RegExp(`Namespace ${namespace} exists; every Tollgate search attribute was there`),
    );

    const connection = await Connection.connect({ address: TEST_CLUSTER! });
    try {
      const described = await connection.workflowService.describeNamespace({ namespace });
      assert.equal(Number(described.config?.workflowExecutionRetentionTtl?.seconds), 2 * 86_400);
      const client = new Client({ connection, namespace });
      const query = `${SEARCH_ATTRIBUTES.app} = 'nobody' AND ${SEARCH_ATTRIBUTES.outcome} = 'succeeded'`;
      const listed = [];
      for await (const run of client.workflow.list({ query })) listed.push(run);
      assert.deepEqual(listed, [], 'a query on the attributes is accepted (and finds nothing yet)');
    } finally {
      await connection.close();
    }
  });

  it('names the server it cannot reach, with exit code 3', async () => {
    const result = await runCli(['namespace'], { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1/);
  });
});
