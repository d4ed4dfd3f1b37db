/** Determinism guard: recorded histories of real runs replay against today's workflow code. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_PATH } from '../../src/bundle.js';
import { ROOT } from '../support/temporal.js';

const dir = join(ROOT, 'test/fixtures/histories');
// Today's recordings, and in v0.1/ those of runs from before the patched() steps (notifications,
// signed approvals, the image smoke test): a worker upgraded mid-release must still replay them.
const fixtures = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));

it('has recorded histories to replay', () => {
  // Re-record with: RECORD_HISTORIES=1 node --test dist/test/integration/ (then review the diff).
  assert.ok(fixtures.length >= 6, `expected recorded histories in ${dir}`);
});

for (const file of fixtures) {
  it(`replays ${file} without a determinism violation`, async () => {
    const history: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    // Throws DeterminismViolationError if the workflow code no longer produces this history.
    await Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }, history, file);
  });
}
