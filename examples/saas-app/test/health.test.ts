import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runHealthChecks } from '../src/health.js';
import { InsightEngine } from '../src/rag/engine.js';
import { makeApp, testConfig } from './helpers.js';

describe('GET /healthz and /readyz', () => {
  it('report alive and ready with every check named', async () => {
    const t = await makeApp();
    try {
      const health = await t.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200);
      assert.equal(health.json().status, 'ok');
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(
        ready.json().checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]),
        [['database', true], ['stripe', true], ['rag', true], ['revenue', true]],
      );
    } finally {
      await t.close();
    }
  });

  it('answer 503 under SAAS_FAULT=healthz', async () => {
    const t = await makeApp({ config: testConfig({ fault: 'healthz' }) });
    try {
      assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 503);
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().checks.at(-1).name, 'fault');
    } finally {
      await t.close();
    }
  });

  it('readyz names each failing dependency', async () => {
    const t = await makeApp({
      config: testConfig({}, { STRIPE_SECRET_KEY: 'sk_live_x' }),
      engine: new InsightEngine([]),
    });
    try {
      t.db.close();
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      const failed = ready.json().checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name);
      assert.deepEqual(failed, ['database', 'stripe', 'rag', 'revenue']);
    } finally {
      await t.close();
    }
  });
});

describe('runHealthChecks (npm run health)', () => {
  it('passes all five checks and ignores SAAS_FAULT', async () => {
    const results = await runHealthChecks({ SAAS_FAULT: 'healthz' });
    assert.deepEqual(
      results.map((r) => [r.name, r.ok]),
      [['modules', true], ['database', true], ['stripe', true], ['rag', true], ['revenue', true]],
    );
  });

  it('fails the stripe check for a live key in CI', async () => {
    const results = await runHealthChecks({ CI: 'true', STRIPE_SECRET_KEY: 'sk_live_x' });
    const stripe = results.find((r) => r.name === 'stripe');
    assert.equal(stripe?.ok, false);
    assert.match(stripe?.detail ?? '', /live key/);
  });

  it('fails the stripe check for a malformed key or webhook secret', async () => {
    const badKey = await runHealthChecks({ STRIPE_SECRET_KEY: 'pk_test_x' });
    assert.match(badKey.find((r) => r.name === 'stripe')?.detail ?? '', /not an sk_\/rk_/);
    const badSecret = await runHealthChecks({ STRIPE_WEBHOOK_SECRET: 'secret' });
    assert.match(badSecret.find((r) => r.name === 'stripe')?.detail ?? '', /whsec_/);
  });
});

function runHealthCli(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/health.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { PATH: process.env.PATH, NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE, ...env },
    encoding: 'utf8',
  });
}

describe('npm run health (the CLI)', () => {
  it('prints each check and exits 0, whatever SAAS_FAULT says', () => {
    const run = runHealthCli({ SAAS_FAULT: 'crash' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /health: ok {3}revenue/);
    assert.match(run.stdout, /health: passed 5 checks in \d+ ms/);
  });

  it('exits 1 naming the failed check', () => {
    const run = runHealthCli({ CI: 'true', STRIPE_SECRET_KEY: 'sk_live_x' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /health: FAILED \(stripe\)/);
  });
});
