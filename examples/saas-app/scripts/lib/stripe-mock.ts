import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** A reachable stripe-mock and how to stop it (a no-op when it was already running). */
export interface StripeMock {
  url: string;
  source: string;
  stop: () => Promise<void>;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the stripe-mock binary: STRIPE_MOCK_BIN, then PATH, then Tollgate's tool cache
 * (TOLLGATE_HOME/tools/bin, which a Tollgate worker passes to its stages), then the cache of the
 * Tollgate repository this app is bundled in (for `npm run test:stripe` in examples/saas-app).
 */
export function findStripeMockBinary(env: NodeJS.ProcessEnv, appDir: string): string {
  if (env.STRIPE_MOCK_BIN) {
    if (!executable(env.STRIPE_MOCK_BIN)) throw new Error(`STRIPE_MOCK_BIN=${env.STRIPE_MOCK_BIN} is not an executable file`);
    return env.STRIPE_MOCK_BIN;
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'stripe-mock');
    if (executable(candidate)) return candidate;
  }
  const caches = [
    ...(env.TOLLGATE_HOME ? [join(env.TOLLGATE_HOME, 'tools/bin/stripe-mock')] : []),
    resolve(appDir, '../../.tollgate/tools/bin/stripe-mock'),
  ];
  const cached = caches.find(executable);
  if (cached) return cached;
  throw new Error(
    'stripe-mock not found (STRIPE_MOCK_URL, STRIPE_MOCK_BIN, PATH, $TOLLGATE_HOME/tools/bin, ../../.tollgate/tools/bin): ' +
      'run scripts/ensure-tools from the Tollgate repository, or set STRIPE_MOCK_BIN on the worker',
  );
}

/** Uses STRIPE_MOCK_URL when set, else starts stripe-mock on loopback with system-chosen ports. */
export async function startStripeMock(env: NodeJS.ProcessEnv, appDir: string, timeoutMs = 10_000): Promise<StripeMock> {
  if (env.STRIPE_MOCK_URL) {
    return { url: env.STRIPE_MOCK_URL.replace(/\/$/, ''), source: 'STRIPE_MOCK_URL', stop: async () => {} };
  }
  const binary = findStripeMockBinary(env, appDir);
  // Port 0 in both addresses: the system picks free ports, so parallel runs never collide.
  const child = spawn(binary, ['-http-addr', '127.0.0.1:0', '-https-addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const url = await new Promise<string>((resolvePort, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`stripe-mock printed no HTTP port within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening for HTTP at address: (\S+):(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePort(`http://127.0.0.1:${match[2]}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stripe-mock exited with code ${code}:\n${output}`));
    });
  });

  return {
    url,
    source: binary,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(forced);
    },
  };
}
