/**
 * Canary verdicts on the real sample app through the real proxy: A/A releases (the same code, a new
 * release id each) and faulty ones (SAAS_FAULT=errors: one request in ten answers 500;
 * SAAS_FAULT=slow: 1.5 s per request), each through the real release workflow on a dev server with
 * a canary window of two steps, under a steady loop of sticky customers. Shows the simulation in
 * bench/verdict.ts against reality: how many healthy releases are rolled back, how many faulty ones
 * pass, and at what evidence; and how fast every customer is back on the stable release after a
 * failed verdict, with how many requests failed in the switch.
 *
 *   node dist/bench/canary.js [--aa 20] [--faulty 20] [--markdown FILE]
 *
 * Prints figures; asserts nothing.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { environmentStatus } from '../src/environments/local/index.js';
import { statusFrom } from '../src/cli/runs.js';
import type { CanaryPlan, EnvironmentLink, ReleaseStatus } from '../src/types.js';
import { verdictPlan } from '../src/verification/index.js';
import { CANARY_EVENTS_PER_RUN } from '../src/workflows/canary-window.js';
import type { ReleaseWorkflow } from '../src/workflows/release/index.js';
import {
  buildSampleApp,
  deliveryWorker,
  packStage,
  requestLoop,
  sampleChain,
  sampleCommit,
  sampleInput,
  stopSampleEnvironments,
  windowHistory,
} from '../test/support/delivery.js';
import { startTestServer } from '../test/support/temporal.js';
import { median, ms, quantile, table } from './figures.js';

const { values } = parseArgs({
  options: {
    aa: { type: 'string', default: '20' },
    faulty: { type: 'string', default: '20' },
    markdown: { type: 'string' },
  },
});
const AA = Number(values.aa);
const FAULTY = Number(values.faulty);

/** The window every release runs: the config's defaults but quicker steps, so 40 releases fit in minutes. */
const CANARY: CanaryPlan = {
  steps: [25, 50],
  stepMinMs: 3000,
  stepMaxMs: 60_000,
  intervalMs: 500,
  unavailableMaxMs: 10_000,
  sticky: { header: 'x-customer-id' },
  verdict: verdictPlan({ onInconclusive: 'rollback' }),
  external: [],
};

interface Run {
  kind: 'a/a' | 'errors' | 'slow';
  outcome: string;
  /** The deciding verdict's reason, and at which weight. */
  reason: string;
  weight: number | null;
  /** Canary requests in the deciding step up to its verdict. */
  canaryRequests: number;
  windowS: number;
  /** Auto-rollback entry (the verdict) → the proxy's canary cleared, as the supervisor's status shows it. */
  clearMs: number;
  requests: number;
  /** Requests that failed other than by the app's own fault (500s of SAAS_FAULT=errors): the switch's. */
  switchFailures: number;
  /** The release's history (events, bytes), its canary window's (every run of its child workflow), and the readings. */
  historyEvents: number;
  historyBytes: number;
  windowEvents: number;
  readings: number;
}

/** Polls the environment until its canary goes away after being there; resolves with when (or NaN at `stop`). */
function watchCanary(home: string, stop: Promise<unknown>): Promise<number> {
  return (async () => {
    let stopped = false;
    void stop.finally(() => (stopped = true));
    let seen = false;
    while (!stopped) {
      const canary = (
        await environmentStatus(home, { app: 'saas-app', name: 'production' }).catch(() => null)
      )?.canary;
      if (canary) seen = true;
      else if (seen) return Date.now();
      await sleep(5);
    }
    return NaN;
  })();
}

function describe(
  kind: Run['kind'],
  status: ReleaseStatus,
  failure: string | null,
): Omit<
  Run,
  'clearMs' | 'requests' | 'switchFailures' | 'historyEvents' | 'historyBytes' | 'windowEvents' | 'readings'
> {
  const canary = status.environments.production?.canary;
  const last = canary?.decided.at(-1);
  const stage = status.stages['canary-production'];
  return {
    kind,
    outcome: failure ? status.phase : 'succeeded',
    reason: last?.reason ?? canary?.verdict?.reason ?? 'none',
    weight: last?.weight ?? null,
    canaryRequests: last?.canaryRequests ?? 0,
    windowS:
      stage?.startedAt && stage.endedAt
        ? (Date.parse(stage.endedAt) - Date.parse(stage.startedAt)) / 1000
        : NaN,
  };
}

/**
 * What a window costs in history: the release's events and bytes (which no longer grow with the
 * window), the window workflow's, and the events each reading adds to the window (the slope between
 * the shortest and longest windows), so a run's size can be set against Temporal's limits (51,200
 * events; the server warns at 10,240): the window continues as new at `eventsPerRun`.
 */
function historyLine(runs: readonly Run[]): string {
  const sorted = [...runs].sort((a, b) => a.readings - b.readings);
  const [short, long] = [sorted[0], sorted[sorted.length - 1]];
  if (!short || !long) return '';
  const perReading =
    long.readings > short.readings
      ? (long.windowEvents - short.windowEvents) / (long.readings - short.readings)
      : NaN;
  const interval = CANARY.intervalMs / 1000;
  const perRun = CANARY_EVENTS_PER_RUN;
  const minutes = Number.isFinite(perReading) ? ((perRun / perReading) * interval) / 60 : NaN;
  return (
    `History per release: median ${median(runs.map((r) => r.historyEvents))} events, ${(median(runs.map((r) => r.historyBytes)) / 1024).toFixed(0)} KiB ` +
    `in the release, whatever the window's length; its window workflow median ${median(runs.map((r) => r.windowEvents))} events ` +
    `(${median(runs.map((r) => r.readings))} readings), each reading adding about ${perReading.toFixed(1)} events, so read every ` +
    `${interval} s the window continues as new (at ${perRun} events) about every ${minutes.toFixed(1)} min, each run far below the 10,240-event warning.`
  );
}

async function main(): Promise<void> {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`canary bench: ${AA} A/A and ${FAULTY} faulty releases of the sample app; load ${load}`);
  await buildSampleApp();
  const server = await startTestServer();
  const homes: string[] = [];
  const runs: Run[] = [];
  try {
    const s = await deliveryWorker(server, 'bench-canary', homes);
    const [, production] = await sampleChain();
    const { verification: _window, ...link } = production!;
    const chain: EnvironmentLink[] = [{ ...link, canary: CANARY }];
    // One commit for every release: the build comes from the stage result cache, each release id from its env.
    const source = sampleCommit(s.repo, 'bench');
    const release = (id: string, releaseEnv: Record<string, string>) =>
      server.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
        taskQueue: s.taskQueue,
        workflowId: `${s.workflowId}-${id}`,
        args: [
          sampleInput(source, chain, {
            releaseEnv,
            stages: [{ ...packStage(), cache: true }],
            requestedBy: 'bench',
          }),
        ],
      });
    await s.worker.runUntil(async () => {
      const url = `http://127.0.0.1:${link.environment.port}/api/insights?q=pricing`;
      const customers = requestLoop(url, 4, (n) => ({ 'x-customer-id': `customer-${n % 64}` }));
      try {
        const first = await (await release('stable', { BENCH_RUN: 'stable' })).result();
        console.log(`stable ${first.status.releaseId}: ${first.outcome}`);
      } finally {
        await customers.stop();
      }
      const kinds: Run['kind'][] = [
        ...Array.from({ length: AA }, () => 'a/a' as const),
        ...Array.from({ length: FAULTY }, (_, i) => (i % 2 === 0 ? ('errors' as const) : ('slow' as const))),
      ];
      for (const [i, kind] of kinds.entries()) {
        const loop = requestLoop(url, 4, (n) => ({ 'x-customer-id': `customer-${n % 64}` }));
        const handle = await release(`${kind.replace('/', '')}-${i}`, {
          BENCH_RUN: String(i),
          ...(kind === 'a/a' ? {} : { SAAS_FAULT: kind }),
        });
        const ended = handle.result().then(
          (result) => ({ status: result.status, failure: null as string | null }),
          (error: unknown) => {
            const cause =
              error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure
                ? error.cause
                : null;
            return {
              status: statusFrom(cause?.details?.[0]) ?? null,
              failure: cause?.message ?? String(error),
            };
          },
        );
        const cleared = watchCanary(s.home, ended);
        const { status, failure } = await ended;
        const traffic = await loop.stop();
        if (!status) {
          console.log(`${i + 1}. ${kind}: no status (${failure})`);
          continue;
        }
        const rollback = status.audit.find((e) => e.action === 'auto-rollback');
        const clearedAt = await cleared;
        const history = await handle.fetchHistory();
        const window = await windowHistory(server.client, `canary-${status.releaseId}-production-1`);
        const run: Run = {
          ...describe(kind, status, failure),
          historyEvents: history.events?.length ?? 0,
          historyBytes: JSON.stringify(history).length,
          windowEvents: window.events,
          readings: status.environments.production?.canary?.readings ?? 0,
          clearMs: rollback ? clearedAt - Date.parse(rollback.at) : NaN,
          requests: traffic.ok + traffic.failed.length,
          switchFailures: traffic.failed.filter((f) => f !== 'HTTP 500').length,
        };
        runs.push(run);
        console.log(
          `${i + 1}. ${kind}: ${run.outcome} [${run.reason}] at ${run.weight ?? '-'} % after ${run.canaryRequests} canary requests, window ${run.windowS.toFixed(1)} s` +
            (rollback ? `; canary cleared ${ms(run.clearMs)} after the verdict` : '') +
            `; ${run.requests} requests, ${run.switchFailures} failed other than by the fault`,
        );
      }
    });
  } finally {
    await stopSampleEnvironments(homes);
    await server.teardown();
  }

  const of = (kind: Run['kind']): Run[] => runs.filter((r) => r.kind === kind);
  const rolledBack = (r: Run): boolean => r.outcome !== 'succeeded';
  const row = (kind: Run['kind']): string[] => {
    const rs = of(kind);
    const reasons = new Map<string, number>();
    for (const r of rs)
      reasons.set(
        `${r.reason} at ${r.weight ?? '-'} %`,
        (reasons.get(`${r.reason} at ${r.weight ?? '-'} %`) ?? 0) + 1,
      );
    return [
      kind === 'a/a' ? 'A/A (healthy)' : `SAAS_FAULT=${kind}`,
      String(rs.length),
      `${rs.filter(rolledBack).length}`,
      [...reasons].map(([reason, n]) => `${n}× ${reason}`).join(', '),
      String(median(rs.map((r) => r.canaryRequests))),
      `${median(rs.map((r) => r.windowS)).toFixed(1)} s`,
    ];
  };
  const rollbacks = runs.filter((r) => Number.isFinite(r.clearMs));
  const lines = [
    table(
      [
        'releases',
        'n',
        'rolled back',
        'deciding verdicts (last step)',
        'canary requests in the deciding step, median',
        'window, median',
      ],
      (['a/a', 'errors', 'slow'] as const).filter((k) => of(k).length > 0).map(row),
    ),
    '',
    `Failed verdict → every customer on the stable release (the proxy's canary cleared, polled every ~5 ms): ` +
      `median ${ms(median(rollbacks.map((r) => r.clearMs)))}, p95 ${ms(
        quantile(
          rollbacks.map((r) => r.clearMs),
          0.95,
        ),
      )}, ` +
      `max ${ms(Math.max(...rollbacks.map((r) => r.clearMs)))} (n=${rollbacks.length}). Requests during the faulty releases: ` +
      `${of('errors')
        .concat(of('slow'))
        .reduce((n, r) => n + r.requests, 0)}, failed other than by the fault itself: ` +
      `${of('errors')
        .concat(of('slow'))
        .reduce((n, r) => n + r.switchFailures, 0)}.`,
    '',
    historyLine(runs),
    '',
    `Window: steps ${CANARY.steps.join(' → ')} %, at least ${CANARY.stepMinMs / 1000} s and ${CANARY.verdict.minRequestsPerStep} canary requests per step, ` +
      `read every ${CANARY.intervalMs} ms; α ${CANARY.verdict.alpha}, β ${CANARY.verdict.beta}, detectable 2×, negligible rate ${CANARY.verdict.negligibleRate}, ` +
      `latency floor ${CANARY.verdict.latencyFloorMs} ms, inconclusive after ${CANARY.stepMaxMs / 1000} s → rollback. Traffic: 4 request loops, 64 customers by ` +
      `\`x-customer-id\`, no synthetic share. Machine load average at start: ${load}.`,
  ];
  console.log(`\n${lines.join('\n')}`);
  if (values.markdown) writeFileSync(values.markdown, `${lines.join('\n')}\n`);
}

await main();
// The SDK's native runtime keeps handles open after teardown; everything we started is stopped.
process.exit(0);
