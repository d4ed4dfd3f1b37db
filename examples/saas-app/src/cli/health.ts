import { runHealthChecks } from '../health.js';

/** Prints each health check and exits non-zero naming the failed ones. */
async function main(): Promise<void> {
  const started = performance.now();
  const results = await runHealthChecks(process.env);
  for (const r of results) console.log(`health: ${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(9)} ${r.detail}`);
  const failed = results.filter((r) => !r.ok).map((r) => r.name);
  const ms = Math.round(performance.now() - started);
  if (failed.length > 0) {
    console.error(`health: FAILED (${failed.join(', ')}) in ${ms} ms`);
    process.exit(1);
  }
  console.log(`health: passed ${results.length} checks in ${ms} ms`);
}

void main();
