/**
 * How fast an environment rolls back, and whether clients notice a switch: the local driver (host
 * processes) and the docker driver (containers under the real engine; scripts/images up starts it).
 *
 *   node dist/bench/rollback.js [--rollbacks 20] [--clients 8] [--e2e-runs 3] [--skip-e2e] [--skip-docker] [--markdown FILE]
 *
 * 1. Driver level, fixture app (test/fixtures/env-app, answers with its release id): time from calling
 *    `rollback()` (the moment a breach is "seen") to the proxy answering with the previous release,
 *    polled back to back over one keep-alive connection; the same for `activate()`.
 * 2. Failed requests while traffic moves: `--clients` concurrent request loops (keep-alive on, then off)
 *    against the proxy while it is switched back and forth by activate(), then by rollback().
 * 3. End to end through the workflow: the real sample app, a good release, then releases with
 *    SAAS_FAULT=slow (every request 1.5 s) that breach the verification window's p95 latency. Measured
 *    from the breaching sample's `at` to production serving the previous release again.
 *
 * Prints figures; asserts nothing. Every environment, server and process it starts is stopped.
 */
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Environment } from '../src/environments/environment.js';
import {
  createLocalEnvironment,
  envPaths,
  environmentStatus,
  stopEnvironment,
} from '../src/environments/local/index.js';
import { freePort } from '../src/environments/local/net.js';
import { containersOf, docker, fixtureDockerEnvironment } from '../test/support/docker.js';
import { statusFrom } from '../src/cli/runs.js';
import type { EnvironmentLink } from '../src/types.js';
import type { ReleaseWorkflow } from '../src/workflows/release/index.js';
import {
  APP_SECRETS,
  buildSampleApp,
  requestLoop,
  sampleChain,
  sampleCommit,
  sampleInput,
  stopSampleEnvironments,
} from '../test/support/delivery.js';
import { createTestWorker, startTestServer, tempDir, uniqueIds } from '../test/support/temporal.js';
import {
  fixtureArtifact,
  fixtureSpec,
  hit,
  loadLoop,
  releaseOf,
  removeHome,
  tempHome,
  type LoadResult,
} from '../test/environments/local-harness.js';

// ---------------------------------------------------------------------------------------------

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (v: number, digits = 1): string => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : 'n/a');
const table = (head: string[], rows: string[][]): string => {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
};
const spread = (v: number[]): string[] => [
  ms(median(v)),
  ms(quantile(v, 0.95)),
  ms(Math.min(...v)),
  ms(Math.max(...v)),
];

/** Cleanups still to run if the bench is interrupted (SIGINT/SIGTERM). */
const cleanups = new Set<() => Promise<unknown>>();
async function guard<T>(cleanup: () => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  cleanups.add(cleanup);
  try {
    return await fn();
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([...cleanups].map((c) => c())).finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Part 1 and 2: the driver with the fixture app.

/** Polls `url` over one keep-alive connection until it names `release`; ms since `t0`, or NaN after 10 s. */
async function pollUntilServed(url: string, release: string, t0: number, agent: Agent): Promise<number> {
  const deadline = t0 + 10_000;
  while (performance.now() < deadline) {
    if (releaseOf(await hit(url, agent, 2000)) === release) return performance.now() - t0;
  }
  return NaN;
}

interface SwitchTimes {
  served: number[];
  resolved: number[];
}

/** `count` times: activate rel-b (timed), then roll back to rel-a (timed). */
async function timeSwitches(
  env: Environment,
  count: number,
): Promise<{ activate: SwitchTimes; rollback: SwitchTimes }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = `${env.url}/healthz`; // names the release without the fixture's DELAY_MS
  const activate: SwitchTimes = { served: [], resolved: [] };
  const rollback: SwitchTimes = { served: [], resolved: [] };
  const timeOne = async (call: () => Promise<unknown>, target: string, into: SwitchTimes): Promise<void> => {
    const t0 = performance.now();
    const done = call().then(() => into.resolved.push(performance.now() - t0));
    into.served.push(await pollUntilServed(url, target, t0, agent));
    await done;
  };
  try {
    for (let i = 0; i < count; i++) {
      await timeOne(() => env.activate('rel-b'), 'rel-b', activate);
      await sleep(50);
      await timeOne(() => env.rollback(), 'rel-a', rollback);
      await sleep(50);
    }
  } finally {
    agent.destroy();
  }
  return { activate, rollback };
}

interface LoadPhase {
  label: string;
  keepAlive: boolean;
  switches: number;
  result: LoadResult;
  proxy: { requests: number; errors5xx: number; proxyErrors: number };
}

/** Request loops against the proxy while `switches` moves traffic; what the clients and the proxy saw. */
async function underLoad(
  env: Environment,
  label: string,
  clients: number,
  keepAlive: boolean,
  switches: () => Promise<number>,
): Promise<LoadPhase> {
  const since = new Date().toISOString();
  let count = 0;
  const work = (async () => {
    await sleep(200); // the loops are running before the first switch
    count = await switches();
    await sleep(200); // and still running after the last one
  })();
  const result = await loadLoop(`${env.url}/`, clients, keepAlive, work);
  await work;
  const traffic = await env.traffic(since);
  return {
    label,
    keepAlive,
    switches: count,
    result,
    proxy: { requests: traffic.requests, errors5xx: traffic.errors5xx, proxyErrors: traffic.proxyErrors },
  };
}

async function driverBench(
  rollbacks: number,
  clients: number,
  driver: 'local' | 'docker',
): Promise<{ lines: string[]; summary: string[] }> {
  const home = await tempHome();
  const port = await freePort();
  const name = 'bench';
  const env =
    driver === 'local'
      ? createLocalEnvironment({ app: 'bench', name, port, home, readyTimeoutMs: 15_000 })
      : fixtureDockerEnvironment(home, port, { app: 'bench', name });
  const lines: string[] = [];
  const summary: string[] = [];
  const cleanup = async (): Promise<void> => {
    await stopEnvironment(envPaths(home, { app: 'bench', name })).catch(() => undefined);
    if (driver === 'docker')
      for (const c of await containersOf(home, { app: 'bench', name }).catch(() => []))
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
    await removeHome(home);
  };
  await guard(cleanup, async () => {
    // DELAY_MS keeps each `/` request in flight 5 ms, so switches happen with requests mid-way.
    for (const id of ['rel-a', 'rel-b'])
      await env.deploy(fixtureSpec(id, await fixtureArtifact(home, id), { DELAY_MS: '5' }));
    await env.activate('rel-a');

    await timeSwitches(env, 2); // warm-up: connections, JIT
    const { activate, rollback } = await timeSwitches(env, rollbacks);
    lines.push(
      table(
        ['n = ' + rollbacks, 'median', 'p95', 'min', 'max'],
        [
          ['rollback() called → proxy serves the previous release', ...spread(rollback.served)],
          ['rollback() called → rollback() resolves', ...spread(rollback.resolved)],
          ['activate() called → proxy serves the new release', ...spread(activate.served)],
          ['activate() called → activate() resolves', ...spread(activate.resolved)],
        ],
      ),
    );
    summary.push(
      `${driver} driver rollback → previous release served: median ${ms(median(rollback.served))}, p95 ${ms(quantile(rollback.served, 0.95))} (n=${rollbacks})`,
    );

    const phases: LoadPhase[] = [];
    for (const keepAlive of [true, false]) {
      // activate only: a ↔ b
      phases.push(
        await underLoad(env, 'activate() a ↔ b', clients, keepAlive, async () => {
          for (let i = 0; i < rollbacks; i++) {
            await env.activate(i % 2 === 0 ? 'rel-b' : 'rel-a');
            await sleep(100);
          }
          // Leave rel-a serving with rel-b as previous... then back to the starting point.
          await env.activate('rel-a');
          return rollbacks;
        }),
      );
      // rollback: each preceded by an activate(rel-b) (rollback needs something to go back from)
      phases.push(
        await underLoad(env, 'activate(b) + rollback() to a', clients, keepAlive, async () => {
          for (let i = 0; i < rollbacks; i++) {
            await env.activate('rel-b');
            await sleep(50);
            await env.rollback();
            await sleep(50);
          }
          return rollbacks;
        }),
      );
    }
    lines.push('');
    lines.push(
      table(
        [
          'switching under load',
          'keep-alive',
          'switches',
          'requests',
          'failed (client)',
          'served by a / b',
          'proxy: 5xx / proxy errors',
        ],
        phases.map((p) => [
          p.label,
          p.keepAlive ? 'on' : 'off',
          String(p.switches),
          String(p.result.requests),
          `**${p.result.failures.length}**`,
          `${p.result.byRelease['rel-a'] ?? 0} / ${p.result.byRelease['rel-b'] ?? 0}`,
          `${p.proxy.errors5xx} / ${p.proxy.proxyErrors}`,
        ]),
      ),
    );
    for (const p of phases) {
      if (p.result.failures.length === 0) continue;
      const kinds = new Map<string, number>();
      for (const f of p.result.failures) {
        const key = f.error ?? `HTTP ${f.status}`;
        kinds.set(key, (kinds.get(key) ?? 0) + 1);
      }
      lines.push(
        '',
        `Failures in "${p.label}" (keep-alive ${p.keepAlive ? 'on' : 'off'}): ${[...kinds].map(([k, n]) => `${n}× ${k}`).join(', ')}`,
      );
    }
    const failed = phases.reduce((n, p) => n + p.result.failures.length, 0);
    const requests = phases.reduce((n, p) => n + p.result.requests, 0);
    summary.push(
      `${driver} driver: failed requests while switching under ${clients} clients: ${failed} of ${requests}`,
    );
  });
  return { lines, summary };
}

// ---------------------------------------------------------------------------------------------
// Part 3: end to end through the workflow with the real sample app.

interface E2eRun {
  breachAt: number;
  /** The workflow's own record of seeing it (the auto-rollback audit entry, workflow clock). */
  workflowSawAt: number;
  /** The supervisor's history entry for the switch back (written just before the proxy target moves). */
  switchedAt: number;
  /** The first status poll that saw production current on the previous release. */
  observedAt: number;
  pollPeriodMs: number;
  signal: string;
  failedRequests: number;
  requests: number;
  failures: string[];
}

/** Polls production's current release until it went to `bad` and back to `good` (or `stop` resolves). */
function watchProduction(
  home: string,
  good: string,
  stop: Promise<unknown>,
): Promise<{ observedAt: number; periods: number[] }> {
  return (async () => {
    let stopped = false;
    void stop.finally(() => (stopped = true));
    let sawOther = false;
    const periods: number[] = [];
    let last = NaN;
    while (!stopped) {
      const status = await environmentStatus(home, { app: 'saas-app', name: 'production' }).catch(() => null);
      const now = Date.now();
      if (Number.isFinite(last)) periods.push(now - last);
      last = now;
      const current = status?.current ?? null;
      if (current && current !== good) sawOther = true;
      else if (sawOther && current === good) return { observedAt: now, periods };
      await sleep(5);
    }
    return { observedAt: NaN, periods };
  })();
}

/** " (3× HTTP 502, 1× timeout)" for a list of failure reasons, or "". */
function failureKinds(failures: string[]): string {
  if (failures.length === 0) return '';
  const kinds = new Map<string, number>();
  for (const f of failures) kinds.set(f, (kinds.get(f) ?? 0) + 1);
  return ` (${[...kinds].map(([k, n]) => `${n}× ${k}`).join(', ')})`;
}

async function e2eBench(runs: number): Promise<{ lines: string[]; summary: string[] }> {
  await buildSampleApp();
  const server: TestWorkflowEnvironment = await startTestServer();
  const dir = tempDir('bench-e2e');
  const home = join(dir, 'home');
  const lines: string[] = [];
  const summary: string[] = [];
  const results: E2eRun[] = [];
  const cleanup = async (): Promise<void> => {
    await stopSampleEnvironments([home]);
    await server.teardown();
    await removeHome(join(home, '..'));
  };
  await guard(cleanup, async () => {
    const { taskQueue, workflowId } = uniqueIds('bench-e2e');
    const worker = await createTestWorker(server, taskQueue, home, {
      secretSource: { ...process.env, ...APP_SECRETS },
    });
    const delivery = await sampleChain();
    const start = (
      id: string,
      chain: EnvironmentLink[],
      label: string,
      releaseEnv: Record<string, string>,
    ): Promise<WorkflowHandle<ReleaseWorkflow>> =>
      server.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId: id,
        args: [
          sampleInput(sampleCommit(join(dir, 'repo'), label), chain, { releaseEnv, requestedBy: 'bench' }),
        ],
      });
    await worker.runUntil(async () => {
      const quick = delivery.map((link) =>
        link.verification ? { ...link, verification: { ...link.verification, durationMs: 1000 } } : link,
      );
      const good = await (await start(`${workflowId}-good`, quick, 'good', {})).result();
      const goodId = good.status.releaseId!;
      console.log(`good release ${goodId} serves production`);
      for (let i = 0; i < runs; i++) {
        const load = requestLoop(`http://127.0.0.1:${delivery[1]!.environment.port}/api/insights?q=churn`, 2);
        const handle = await start(`${workflowId}-slow-${i}`, delivery, `slow-${i}`, {
          SAAS_FAULT: 'slow',
        });
        const outcome = handle.result().then(
          () => null,
          (e: unknown) => e,
        );
        const watched = await watchProduction(home, goodId, outcome);
        const error = await outcome;
        const traffic = await load.stop();
        if (!(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure)) {
          console.log(`run ${i + 1}: the slow release did not fail as expected: ${String(error)}`);
          continue;
        }
        const status = statusFrom(error.cause.details?.[0])!;
        const breach = status.environments.production?.verification?.samples.find((s) => s.breach);
        const audit = status.audit.find((e) => e.action === 'auto-rollback');
        const production = await environmentStatus(home, { app: 'saas-app', name: 'production' });
        const switched = production.history
          .filter((h) => h.releaseId === goodId && h.event === 'activated')
          .map((h) => Date.parse(h.at))
          .pop();
        const run: E2eRun = {
          breachAt: Date.parse(breach?.at ?? ''),
          workflowSawAt: Date.parse(audit?.at ?? ''),
          switchedAt: switched ?? NaN,
          observedAt: watched.observedAt,
          pollPeriodMs: median(watched.periods),
          signal: breach?.breach ? `${breach.breach.signal}: ${breach.breach.detail}` : 'none',
          failedRequests: traffic.failed.length,
          failures: traffic.failed,
          requests: traffic.ok + traffic.failed.length,
        };
        results.push(run);
        console.log(
          `run ${i + 1}/${runs}: ${run.signal}; breach → served previous ${(run.observedAt - run.breachAt).toFixed(0)} ms ` +
            `(supervisor switch at +${(run.switchedAt - run.breachAt).toFixed(0)} ms); production now ${production.current}`,
        );
      }
    });
  });
  if (results.length === 0) return { lines: ['(no run breached)'], summary };
  const d = (f: (r: E2eRun) => number): number[] => results.map(f);
  const row = (label: string, v: number[]): string[] => [
    label,
    ms(median(v), 0),
    v.map((x) => x.toFixed(0)).join(', '),
  ];
  lines.push(
    table(
      ['interval (from the breaching sample’s `at`)', 'median', `runs (n=${results.length})`],
      [
        row(
          '→ workflow acts on it (auto-rollback audit entry)',
          d((r) => r.workflowSawAt - r.breachAt),
        ),
        row(
          '→ supervisor switches back (its history entry)',
          d((r) => r.switchedAt - r.breachAt),
        ),
        row(
          '→ **production serves the previous release** (status poll)',
          d((r) => r.observedAt - r.breachAt),
        ),
      ],
    ),
  );
  lines.push(
    '',
    `Breach signal: ${results[0]!.signal}. Status poll period: median ${ms(median(d((r) => r.pollPeriodMs)))}. ` +
      `Client requests to production during the slow releases (2 loops): ${results.reduce((n, r) => n + r.requests, 0)}, ` +
      `failed ${results.reduce((n, r) => n + r.failedRequests, 0)}${failureKinds(results.flatMap((r) => r.failures))}.`,
  );
  summary.push(
    `end to end (workflow, sample app, SAAS_FAULT=slow): breach sample → production serves previous: median ${ms(median(d((r) => r.observedAt - r.breachAt)), 0)} (n=${results.length})`,
  );
  return { lines, summary };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rollbacks: { type: 'string', default: '20' },
      clients: { type: 'string', default: '8' },
      'e2e-runs': { type: 'string', default: '3' },
      'skip-e2e': { type: 'boolean', default: false },
      'skip-docker': { type: 'boolean', default: false },
      markdown: { type: 'string' },
    },
  });
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`rollback bench; load ${load}`);
  const markdown: string[] = [];
  const summary: string[] = [];

  const drivers: { driver: 'local' | 'docker'; title: string }[] = [
    { driver: 'local', title: 'Local environment (host processes), fixture app' },
    ...(values['skip-docker']
      ? []
      : [{ driver: 'docker' as const, title: 'Docker environment (containers, real engine), fixture app' }]),
  ];
  for (const { driver, title } of drivers) {
    const result = await driverBench(
      Math.max(1, Number(values.rollbacks)),
      Math.max(1, Number(values.clients)),
      driver,
    );
    console.log(`\n## ${title}\n\n${result.lines.join('\n')}`);
    markdown.push(`### ${title}`, '', ...result.lines, '');
    summary.push(...result.summary);
  }

  if (!values['skip-e2e']) {
    const e2e = await e2eBench(Math.max(1, Number(values['e2e-runs'])));
    console.log(`\n## End to end: verification breach → automatic rollback\n\n${e2e.lines.join('\n')}`);
    markdown.push('### End to end: verification breach → automatic rollback', '', ...e2e.lines, '');
    summary.push(...e2e.summary);
  }
  markdown.push(`Machine load average at start: ${load}.`);
  console.log(`\n${summary.join('\n')}`);
  if (values.markdown) writeFileSync(values.markdown, `${markdown.join('\n')}\n`);
}

await main();
// The SDK's native runtime keeps handles open after teardown; everything we started is stopped.
process.exit(0);
