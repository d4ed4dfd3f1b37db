/**
 * Load: N concurrent releases of M synthetic apps (the sample graph, every stage a `true` command)
 * against worker processes (dist/src/worker.js, host runner), on the dev server and on the
 * self-hosted cluster (scripts/cluster) side by side, with one worker and then two.
 *
 *   node dist/bench/load.js [--n 50,200,500] [--apps 10] [--workers 1,2] [--servers dev,cluster]
 *                           [--sweep [--sweep-n 25,50,100,200,500]] [--markdown FILE]
 *
 * Per configuration: per-stage dispatch latency (ActivityTaskScheduled → ActivityTaskStarted, from
 * the histories), workflow-task latency (scheduled → started, started → completed), releases
 * completed per minute, worker CPU and resident memory per 100 releases in flight, the machine's CPU
 * busy share, and history events and bytes per release. `--sweep` first tries the worker settings
 * (SETTINGS) on the cluster with one worker and reports the largest N each carries with p95
 * dispatch under TARGET_MS. The cluster's address comes from TOLLGATE_TEST_CLUSTER (scripts/bench
 * starts it). Prints figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { taskQueuePollers } from '../src/cli/pollers.js';
import type { ReleaseInput, StagePlan } from '../src/types.js';
import type { ReleaseWorkflow } from '../src/workflows/release/index.js';
import { fixtureRepo, pipelineStages, shStage, sourceAt } from '../test/support/stages.js';
import { ROOT, startTestServer, tempDir, temporalEnv, uniqueIds } from '../test/support/temporal.js';
import { quantile, table } from './figures.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '50,200,500' },
    'sweep-n': { type: 'string', default: '25,50,100,200,500' },
    apps: { type: 'string', default: '10' },
    workers: { type: 'string', default: '1,2' },
    servers: { type: 'string', default: 'dev,cluster' },
    sweep: { type: 'boolean', default: false },
    markdown: { type: 'string' },
  },
});
const counts = values.n.split(',').map(Number);
const sweepCounts = values['sweep-n'].split(',').map(Number);
const apps = Number(values.apps);
const workerCounts = values.workers.split(',').map(Number);
const servers = values.servers.split(',') as ('dev' | 'cluster')[];
const cluster = process.env.TOLLGATE_TEST_CLUSTER;

/** The dispatch target the sweep looks for: p95 scheduled → started under this. */
const TARGET_MS = 200;
const { EventType } = proto.temporal.api.enums.v1;

/** Worker settings the sweep tries (environment of dist/src/worker.js; the rest at Tollgate's defaults: stages 100, cache 1000). */
const SETTINGS: { name: string; env: Record<string, string> }[] = [
  { name: "workflow tasks 40 (the SDK's default)", env: { TOLLGATE_MAX_CONCURRENT_WORKFLOW_TASKS: '40' } },
  { name: "workflow tasks 10 (Tollgate's default)", env: {} },
  {
    name: 'workflow tasks 100, stages 500',
    env: { TOLLGATE_MAX_CONCURRENT_WORKFLOW_TASKS: '100', TOLLGATE_MAX_CONCURRENT_STAGES: '500' },
  },
];

/**
 * The sample graph with every stage light (no CPU slot) and a `true` command, the build writing its
 * two-file artifact: the pipeline's own cost, nothing else. `markers` is where the steps note their runs.
 */
function syntheticStages(markers: string): StagePlan[] {
  return pipelineStages().map((plan) => ({
    ...(plan.artifact ? plan : shStage(plan.name, 'true')),
    needs: plan.needs,
    load: 'light' as const,
    env: { MARKERS: markers },
  }));
}

/** What one configuration measured. */
interface Figures {
  server: string;
  workers: number;
  settings: string;
  n: number;
  failed: number;
  wallMs: number;
  dispatch: number[];
  wftDispatch: number[];
  wftRun: number[];
  events: number[];
  bytes: number[];
  workerCpuS: number;
  workerRssPeakMb: number;
  workerRssIdleMb: number;
  machineBusy: number;
}

/** CPU seconds (own: utime + stime) and resident MB of a process, from /proc. */
function processUsage(pid: number): { cpuS: number; rssMb: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: ticks / 100, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return { cpuS: 0, rssMb: 0 };
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function startWorkers(
  env: TestWorkflowEnvironment,
  count: number,
  taskQueue: string,
  dir: string,
  settings: Record<string, string>,
): ChildProcess[] {
  return Array.from({ length: count }, (_, i) =>
    spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
      env: {
        ...process.env,
        ...temporalEnv(env),
        ...settings,
        TOLLGATE_TASK_QUEUE: taskQueue,
        TOLLGATE_HOME: join(dir, `worker-${i}`),
        TOLLGATE_RUNNER: 'host',
        TOLLGATE_LOG_LEVEL: 'warn',
        TOLLGATE_METRICS_ADDRESS: 'off',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!);
      }
    }),
  );
  return results;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;

/** N releases through `workers` worker processes; the figures of their histories and processes. */
async function measure(
  env: TestWorkflowEnvironment,
  server: string,
  workers: number,
  n: number,
  settings: (typeof SETTINGS)[number],
): Promise<Figures> {
  const dir = tempDir('bench-load');
  const { taskQueue } = uniqueIds('bench-load');
  const procs = startWorkers(env, workers, taskQueue, dir, settings.env);
  try {
    await until(
      async () => (await taskQueuePollers(env.client, taskQueue)).workflow.length >= workers,
      `${workers} workers polling`,
    );
    const sources = Array.from({ length: apps }, (_, i) => {
      const repo = join(dir, `app-${i}`, 'repo');
      fixtureRepo(repo);
      return sourceAt(repo);
    });
    const stages = syntheticStages(join(dir, 'markers'));
    const inputOf = (i: number): ReleaseInput => ({
      schemaVersion: 2,
      app: `load-app-${i % apps}`,
      source: sources[i % apps]!,
      runner: 'host',
      requestedBy: 'bench',
      stages,
      environments: [],
      dependencies: [],
    });
    // A warm-up release per app (mirrors fetched, the workflow code loaded), not counted.
    await Promise.all(
      sources.map((_, i) =>
        env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
          taskQueue,
          workflowId: `${taskQueue}-warm-up-${i}`,
          args: [inputOf(i)],
        }),
      ),
    );
    const idle = procs.map((p) => processUsage(p.pid!));
    const machineBefore = machineJiffies();
    let peakRss = idle.reduce((sum, u) => sum + u.rssMb, 0);
    const sampler = setInterval(() => {
      peakRss = Math.max(
        peakRss,
        procs.reduce((sum, p) => sum + processUsage(p.pid!).rssMb, 0),
      );
    }, 250);

    const started = performance.now();
    const handles = await pool(
      Array.from({ length: n }, (_, i) => i),
      50,
      (i) =>
        env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
          taskQueue,
          workflowId: `${taskQueue}-${i}`,
          args: [inputOf(i)],
        }),
    );
    const outcomes = await Promise.all(
      handles.map((h) =>
        h.result().then(
          (r) => (r.outcome === 'succeeded' ? r.outcome : `${r.outcome}: ${r.status.failure ?? ''}`),
          (e: unknown) => String((e as { cause?: unknown }).cause ?? e),
        ),
      ),
    );
    const wallMs = performance.now() - started;
    const failure = outcomes.find((o) => o !== 'succeeded');
    if (failure)
      console.error(
        `${server}: ${outcomes.filter((o) => o !== 'succeeded').length} of ${n} failed, the first: ${failure}`,
      );
    clearInterval(sampler);
    const machineAfter = machineJiffies();
    const used = procs.map((p) => processUsage(p.pid!));

    const figures: Figures = {
      server,
      workers,
      settings: settings.name,
      n,
      failed: outcomes.filter((o) => o !== 'succeeded').length,
      wallMs,
      dispatch: [],
      wftDispatch: [],
      wftRun: [],
      events: [],
      bytes: [],
      workerCpuS: used.reduce((sum, u, i) => sum + u.cpuS - idle[i]!.cpuS, 0),
      workerRssPeakMb: peakRss,
      workerRssIdleMb: idle.reduce((sum, u) => sum + u.rssMb, 0),
      machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
    };
    await pool(handles, 16, async (handle) => {
      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      figures.events.push(events.length);
      figures.bytes.push(proto.temporal.api.history.v1.History.encode(history).finish().length);
      const scheduled = new Map<number, number>();
      let wftScheduled = NaN;
      let wftStarted = NaN;
      for (const event of events) {
        const at = ms(event.eventTime);
        const id = Number(event.eventId);
        switch (event.eventType) {
          case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled.set(id, at);
            break;
          case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
            const attrs = event.activityTaskStartedEventAttributes;
            const from = scheduled.get(Number(attrs?.scheduledEventId));
            if (from !== undefined && (attrs?.attempt ?? 1) === 1) figures.dispatch.push(at - from);
            break;
          }
          case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            wftScheduled = at;
            break;
          case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            wftStarted = at;
            figures.wftDispatch.push(at - wftScheduled);
            break;
          case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            figures.wftRun.push(at - wftStarted);
            break;
        }
      }
    });
    return figures;
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(
      procs.map(
        (p) => new Promise((resolve) => (p.exitCode !== null ? resolve(0) : p.once('exit', resolve))),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

const p = (xs: number[], q: number): string => `${quantile(xs, q).toFixed(0)}`;
const per100 = (value: number, n: number): string => ((value * 100) / n).toFixed(1);

function row(f: Figures): string[] {
  return [
    f.server,
    String(f.workers),
    String(f.n),
    `${p(f.dispatch, 0.5)} / ${p(f.dispatch, 0.95)} / ${p(f.dispatch, 0.99)}`,
    `${p(f.wftDispatch, 0.5)} / ${p(f.wftDispatch, 0.95)} / ${p(f.wftDispatch, 0.99)}`,
    `${p(f.wftRun, 0.5)} / ${p(f.wftRun, 0.95)}`,
    ((f.n - f.failed) / (f.wallMs / 60_000)).toFixed(0),
    per100(f.workerCpuS, f.n),
    per100(f.workerRssPeakMb - f.workerRssIdleMb, f.n),
    `${f.workerRssPeakMb.toFixed(0)}`,
    `${(f.machineBusy * 100).toFixed(0)} %`,
    `${p(f.events, 0.5)} / ${(quantile(f.bytes, 0.5) / 1024).toFixed(1)} KiB`,
    String(f.failed),
  ];
}

const HEAD = [
  'server',
  'workers',
  'N',
  'stage dispatch p50 / p95 / p99 (ms)',
  'workflow task dispatch p50 / p95 / p99 (ms)',
  'workflow task run p50 / p95 (ms)',
  'releases / min',
  'worker CPU s per 100 releases',
  'worker RSS growth MB per 100 in flight',
  'worker RSS peak MB',
  'machine CPU busy',
  'history per release: events / bytes (median)',
  'failed',
];

async function main(): Promise<void> {
  if (servers.includes('cluster') && !cluster) {
    throw new Error(
      'the cluster half needs TOLLGATE_TEST_CLUSTER (scripts/bench starts the cluster and sets it)',
    );
  }
  const out: string[] = [];
  const print = (line: string): void => {
    console.log(line);
    out.push(line);
  };
  const envs = new Map<string, TestWorkflowEnvironment>();
  const envOf = async (server: 'dev' | 'cluster'): Promise<TestWorkflowEnvironment> => {
    let env = envs.get(server);
    if (!env) {
      env =
        server === 'dev'
          ? // The embedded default: a dev server on a SQLite file, as `tollgate dev` runs it.
            await startTestServer({ cluster: null, dbFilename: join(tempDir('bench-load-db'), 'dev.db') })
          : await startTestServer({ cluster: cluster! });
      envs.set(server, env);
    }
    return env;
  };
  try {
    let chosen = SETTINGS.find((settings) => Object.keys(settings.env).length === 0)!;
    if (values.sweep) {
      const server = servers.includes('cluster') ? 'cluster' : 'dev';
      const sweepRows: string[][] = [];
      let best = -1;
      for (const settings of SETTINGS) {
        let carried = 0;
        let stoppedAt = '';
        for (const n of sweepCounts) {
          const f = await measure(await envOf(server), server, 1, n, settings);
          console.error(`sweep ${settings.name} N=${n}: ${row(f).join(' | ')}`);
          if (quantile(f.dispatch, 0.95) < TARGET_MS && f.failed === 0) carried = n;
          else {
            stoppedAt = `N=${n}: p95 ${p(f.dispatch, 0.95)} ms, CPU ${(f.machineBusy * 100).toFixed(0)} %`;
            break;
          }
        }
        sweepRows.push([
          settings.name,
          carried ? String(carried) : `< ${sweepCounts[0]}`,
          stoppedAt || 'every N tried',
        ]);
        if (carried > best) {
          best = carried;
          chosen = settings;
        }
      }
      print(
        `Worker settings, one worker on the ${server}: the largest N with p95 stage dispatch under ${TARGET_MS} ms.\n`,
      );
      print(table(['settings', 'largest N within target', 'first N over it'], sweepRows));
      print(`\nChosen: ${chosen.name}.\n`);
    }
    const rows: string[][] = [];
    for (const server of servers) {
      for (const workers of workerCounts) {
        for (const n of counts) {
          const f = await measure(await envOf(server), server, workers, n, chosen);
          console.error(`${chosen.name}: ${row(f).join(' | ')}`);
          rows.push(row(f));
        }
      }
    }
    print(
      `N releases of ${apps} synthetic apps at once (the sample graph, six stages each a \`true\` command), worker settings: ${chosen.name}; ${availableParallelism()} cores shared by server, workers and stages.\n`,
    );
    print(table(HEAD, rows));
  } finally {
    for (const env of envs.values()) await env.teardown();
  }
  if (values.markdown) writeFileSync(values.markdown, `${out.join('\n')}\n`);
}

await main();
