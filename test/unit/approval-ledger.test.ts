/** The ledger of used single-use requests: one winner per request, across processes, forgotten after the retention. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { claimRequest, LEDGER_RETENTION_MS } from '../../src/approvals/ledger.js';
import { ROOT, tempDir } from '../support/temporal.js';

const NOW = Date.parse('2025-03-01T09:00:00.000Z');
const claim = (runId: string, requestId = 'request-1') => ({
  workflowId: 'rollback-saas-app-production',
  requestId,
  runId,
});

describe('claimRequest', () => {
  it('gives a request to the first run, again to that run, and names it to any other', () => {
    const dir = tempDir('ledger');
    assert.deepEqual(claimRequest(dir, claim('run-a'), NOW), { ok: true });
    assert.deepEqual(claimRequest(dir, claim('run-a'), NOW + 1000), { ok: true });
    assert.deepEqual(claimRequest(dir, claim('run-b'), NOW + 2000), {
      ok: false,
      usedBy: 'run-a',
      usedAt: new Date(NOW).toISOString(),
    });
    assert.deepEqual(claimRequest(dir, claim('run-b', 'request-2'), NOW), { ok: true }, 'another request');
    assert.deepEqual(
      claimRequest(dir, { ...claim('run-b'), workflowId: 'rollback-other-app-production' }, NOW),
      { ok: true },
      'the same request id under another workflow id',
    );
  });

  it('forgets a record once no signature could still match it', () => {
    const dir = tempDir('ledger');
    claimRequest(dir, claim('run-a'), NOW);
    assert.equal(claimRequest(dir, claim('run-b'), NOW + LEDGER_RETENTION_MS).ok, false);
    assert.deepEqual(claimRequest(dir, claim('run-b'), NOW + LEDGER_RETENTION_MS + 1), { ok: true });
    assert.deepEqual(
      readdirSync(dir).filter((name) => !name.endsWith('.json')),
      [],
      'no temporary files left behind',
    );
  });

  it('has exactly one winner when separate processes claim the same request at once', async () => {
    const dir = tempDir('ledger');
    const ledger = join(ROOT, 'dist/src/approvals/ledger.js');
    const script = `
      const { claimRequest } = await import(${JSON.stringify(ledger)});
      const [dir, runId, now] = process.argv.slice(1);
      process.stdout.write(JSON.stringify(claimRequest(dir, { workflowId: 'w', requestId: 'r', runId }, Number(now))));`;
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) =>
          new Promise<{ ok: boolean }>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              ['--input-type=module', '-e', script, dir, `run-${i}`, String(NOW)],
              { stdio: ['ignore', 'pipe', 'inherit'] },
            );
            let out = '';
            child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
            child.on('error', reject);
            child.on('exit', (code) =>
              code === 0 ? resolve(JSON.parse(out) as { ok: boolean }) : reject(new Error(`exit ${code}`)),
            );
          }),
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
  });
});
