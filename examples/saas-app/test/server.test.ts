import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { signed, stripeEvent, TEST_SECRET } from './helpers.js';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'saas-server-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs src/server.ts in a child with only the given variables (plus PATH and coverage). */
function startServer(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: appDir,
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.NODE_V8_COVERAGE !== undefined ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function listeningUrl(started: Started, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(started.output());
    if (match?.[1] !== undefined) return match[1];
    if (started.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server did not start:\n${started.output()}`);
}

describe('server process', { concurrency: true }, () => {
  it('serves, counts a webhook, and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(scratch, 'run-'));
    const started = startServer({ PORT: '0', DATABASE_PATH: join(dir, 'saas.db'), STRIPE_WEBHOOK_SECRET: TEST_SECRET });
    const url = await listeningUrl(started);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const { payload, headers } = signed(stripeEvent('payment_intent.succeeded', { id: 'pi_srv', amount_received: 4200, currency: 'usd' }));
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: 'POST', body: payload, headers })).status, 200);
    const revenue = (await (await fetch(`${url}/metrics/revenue`)).json()) as { revenueCents: number };
    assert.equal(revenue.revenueCents, 4200);
    started.child.kill('SIGTERM');
    assert.equal(await started.exited, 0);
    assert.match(started.output(), /shutting down/);
    assert.deepEqual(readdirSync(dir), ['saas.db']);
  });

  it('refuses to start with a live key under NODE_ENV=test', async () => {
    const started = startServer({ NODE_ENV: 'test', STRIPE_SECRET_KEY: 'sk_live_nope', DATABASE_PATH: join(scratch, 'never.db') });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /refusing to start: STRIPE_SECRET_KEY is a live key while NODE_ENV=test/);
  });

  it('refuses a bad PORT naming it', async () => {
    const started = startServer({ PORT: 'eighty' });
    assert.equal(await started.exited, 2);
    assert.match(started.output(), /PORT must be an integer/);
  });

  it('exits a few seconds after start under SAAS_FAULT=crash', async () => {
    const started = startServer({ PORT: '0', SAAS_FAULT: 'crash', DATABASE_PATH: join(scratch, 'crash.db') });
    await listeningUrl(started);
    const t0 = Date.now();
    assert.equal(await started.exited, 1);
    assert.ok(Date.now() - t0 > 1000);
    assert.match(started.output(), /SAAS_FAULT=crash: exiting now/);
  });
});
