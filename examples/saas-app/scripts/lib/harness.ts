import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, type Services } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db.js';

/** A real listening app on 127.0.0.1 with a fresh database in its own temp dir. */
export interface RunningApp {
  url: string;
  services: Services;
  db: Db;
  dbPath: string;
  stop: () => Promise<void>;
}

/**
 * Starts the app in-process from explicit variables only, so SAAS_FAULT and the like in the
 * caller's environment never change what a pipeline check sees.
 */
export async function startApp(env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const dir = mkdtempSync(join(tmpdir(), 'saas-check-'));
  const dbPath = join(dir, 'saas.db');
  const db = openDatabase(dbPath);
  const removeOnExit = () => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', removeOnExit);
  const config = { ...loadConfig(env), fault: 'none' as const };
  const { app, services } = await buildApp({ config, db, logger: false, refiner: undefined });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    db,
    dbPath,
    stop: async () => {
      await app.close();
      process.removeListener('exit', removeOnExit);
      removeOnExit();
    },
  };
}

/** Turns SIGTERM/SIGINT into a normal exit, so 'exit' cleanups (temp dirs, stripe-mock) run. */
export function exitCleanlyOnSignals(): void {
  process.once('SIGTERM', () => process.exit(143));
  process.once('SIGINT', () => process.exit(130));
}

/** Collects named checks, prints each as it finishes, and ends with a pass/fail count. */
export class Checks {
  private passed = 0;
  private failed = 0;
  private readonly started = performance.now();

  constructor(private readonly label: string) {}

  /** Runs one check; a thrown error marks it failed with the error's message. */
  async run(name: string, fn: () => Promise<string | void>): Promise<void> {
    const t0 = performance.now();
    try {
      const detail = await fn();
      this.passed += 1;
      console.log(`${this.label}: ok   ${name}${detail ? ` (${detail})` : ''} [${Math.round(performance.now() - t0)} ms]`);
    } catch (error) {
      this.failed += 1;
      console.log(`${this.label}: FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Prints the closing line and returns the process exit code. */
  finish(): number {
    const ms = Math.round(performance.now() - this.started);
    console.log(`${this.label}: finished in ${ms} ms`);
    console.log(`${this.passed} passed, ${this.failed} failed`);
    return this.failed === 0 ? 0 : 1;
  }
}

/** Throws with a message when a condition does not hold. */
export function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
