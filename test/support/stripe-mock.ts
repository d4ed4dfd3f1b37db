/** stripe-mock for tests: found or installed by scripts/ensure-tools, on loopback ports the system picks. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './temporal.js';

/** Starts stripe-mock; resolves with its HTTP base URL and the process (the caller stops it). */
export async function startStripeMock(): Promise<{ url: string; process: ChildProcess }> {
  const binary = execFileSync('bash', [join(ROOT, 'scripts/ensure-tools'), '--print', 'stripe-mock'])
    .toString()
    .trim();
  const child = spawn(binary, ['-http-addr', '127.0.0.1:0', '-https-addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`stripe-mock did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Listening for HTTP at address: (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(`http://${match[1]}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`stripe-mock exited ${code}:\n${output}`)));
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { url, process: child };
}
