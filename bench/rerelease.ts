/**
 * Faster than a shell script: the sample app's command stages (tollgate.config.ts, up to the build)
 * through the real release workflow, against the same commands in a plain bash script.
 *
 *   node dist/bench/rerelease.js [--rounds 2] [--markdown FILE]
 *
 * Each round, side by side: a cold release (a commit never released: every stage runs, node_modules
 * restored from the dependency store, as on a worker that released the app before), a re-release of
 * the same commit (every stage but the health stage a stage-result-cache hit), a release after a one-line source change
 * (the stages run again, the dependency install finds nothing to do), and the sequential script of
 * the same commands in a checkout with node_modules installed. Then the packing of the artifact
 * alone, and the three revenue checks as a parallel group (with the worker's CPU slots and without)
 * against the same three in a row. Real dev server, in-process worker, host runner. Prints figures;
 * asserts nothing.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../src/config/load.js';
import { HostRunner } from '../src/runners/host.js';
import { defaultStageSlots, StageSlots } from '../src/runners/slots.js';
import { StageCache } from '../src/runners/stage-cache.js';
import type { ReleaseInput, ReleaseResult, SourceRef, StagePlan } from '../src/types.js';
import type { ReleaseWorkflow } from '../src/workflows/release/index.js';
import { APP_DIR, buildSampleApp, DEPENDENCIES, sampleCommit } from '../test/support/delivery.js';
import { fixtureRepo, REVENUE_GATES } from '../test/support/stages.js';
import { createTestWorker, ROOT, startTestServer, tempDir, uniqueIds } from '../test/support/temporal.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, markdown: { type: 'string' } },
});
const rounds = Number(values.rounds);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const list = (xs: number[]): string => xs.map((x) => (x / 1000).toFixed(1)).join(', ');

/** The command stages of tollgate.config.ts (the build included, no environments). */
async function samplePlans(): Promise<StagePlan[]> {
  return (await loadConfig('tollgate.config.ts', ROOT)).stages;
}

/** The plans' commands as a naive CI script runs them: one after another, stopping at the first failure. */
function script(plans: StagePlan[]): string {
  const quote = (a: string): string => (/^[\w./:=@-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return `set -e; ${plans.flatMap((p) => p.steps.map((s) => s.run.map(quote).join(' '))).join('; ')}`;
}

function timeScript(text: string, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-c', text], { cwd, env: process.env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`script exited with ${code}`)),
    );
  });
}

interface Release {
  wallMs: number;
  cached: number;
  stages: number;
  perStage: Record<string, number>;
  /** Each stage's start and end (epoch ms, the workflow clock). */
  spans: Record<string, [number, number]>;
}

async function release(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  source: SourceRef,
  stages: StagePlan[],
  extra: Partial<ReleaseInput> = {},
): Promise<Release> {
  const input: ReleaseInput = {
    schemaVersion: 2,
    app: 'saas-app',
    source,
    runner: 'host',
    requestedBy: 'bench',
    stages,
    environments: [],
    dependencies: DEPENDENCIES,
    ...extra,
  };
  const started = performance.now();
  const result: ReleaseResult = await env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
    taskQueue,
    workflowId: uniqueIds('bench-rerelease').workflowId,
    args: [input],
  });
  const wallMs = performance.now() - started;
  if (result.outcome !== 'succeeded')
    throw new Error(`release ended ${result.outcome}: ${result.status.failure}`);
  const entries = Object.entries(result.status.stages).filter(([name]) =>
    stages.some((s) => s.name === name),
  );
  return {
    wallMs,
    cached: entries.filter(([, s]) => s.cached).length,
    stages: entries.length,
    perStage: Object.fromEntries(
      entries.map(([name, s]) => [name, Date.parse(s.endedAt ?? '') - Date.parse(s.startedAt ?? '')]),
    ),
    spans: Object.fromEntries(
      entries.map(([name, s]) => [name, [Date.parse(s.startedAt ?? ''), Date.parse(s.endedAt ?? '')]]),
    ),
  };
}

/** The revenue group's wall time: its first stage's start to its last stage's end, from the status. */
function groupMs(result: Release): number {
  const spans = REVENUE_GATES.map((gate) => result.spans[gate]!);
  return Math.max(...spans.map((s) => s[1])) - Math.min(...spans.map((s) => s[0]));
}

async function main(): Promise<void> {
  await buildSampleApp();
  const plans = await samplePlans();
  const env = await startTestServer();
  const dir = tempDir('bench-rerelease');
  const load = loadavg().map((l) => l.toFixed(2));
  const slots = defaultStageSlots();
  try {
    const home = join(dir, 'home');
    const { taskQueue } = uniqueIds('bench-rerelease');
    const worker = await createTestWorker(env, taskQueue, home, {
      stageCache: StageCache.under(home),
      stageSlots: new StageSlots(slots),
    });
    const repo = join(dir, 'repo');
    const rows = {
      cold: [] as Release[],
      again: [] as Release[],
      changed: [] as Release[],
      script: [] as number[],
    };
    await worker.runUntil(async () => {
      // Warm-up: the worker's bundle, the dev server, the dependency store; not counted.
      await release(env, taskQueue, sampleCommit(repo, 'warm-up'), plans, { noCache: true });
      for (let round = 1; round <= rounds; round++) {
        const source = sampleCommit(repo, `round-${round}`);
        rows.cold.push(await release(env, taskQueue, source, plans));
        rows.again.push(await release(env, taskQueue, source, plans));
        appendFileSync(join(repo, 'src/app.ts'), `// round ${round}: a one-line change\n`);
        const changed = fixtureRepo(repo, {});
        rows.changed.push(await release(env, taskQueue, changed, plans));
        rows.script.push(await timeScript(script(plans), APP_DIR));
        process.stderr.write(
          `round ${round}: cold ${secs(rows.cold.at(-1)!.wallMs)}, again ${secs(rows.again.at(-1)!.wallMs)}, changed ${secs(rows.changed.at(-1)!.wallMs)}, script ${secs(rows.script.at(-1)!)}\n`,
        );
      }
    });

    // Packing alone: the build stage's artifact from the built sample app, steps reduced to `true`.
    const build = plans.find((p) => p.artifact)!;
    const packing: number[] = [];
    for (let i = 0; i < 3; i++) {
      const runDir = join(dir, `pack-${i}`);
      const result = await new HostRunner().runStage(
        { ...build, steps: [{ run: ['true'], env: {} }] },
        {
          runId: 'bench',
          attempt: 1,
          sourceDir: APP_DIR,
          runDir,
          secrets: {},
          signal: new AbortController().signal,
        },
      );
      packing.push(result.durationMs);
      rmSync(runDir, { recursive: true, force: true });
    }

    // The revenue group: parallel with the CPU slots, parallel without, and in a row.
    const gates = plans.filter((p) => (REVENUE_GATES as readonly string[]).includes(p.name));
    const group = async (stageSlots: number, chained: boolean): Promise<number[]> => {
      const groupHome = join(dir, `group-${stageSlots}-${chained}`);
      const queue = uniqueIds('bench-group').taskQueue;
      const w = await createTestWorker(env, queue, groupHome, { stageSlots: new StageSlots(stageSlots) });
      const staged = gates.map((g, i) => ({ ...g, needs: chained && i > 0 ? [gates[i - 1]!.name] : [] }));
      const walls: number[] = [];
      await w.runUntil(async () => {
        for (let i = 0; i < rounds + 1; i++) {
          const r = await release(
            env,
            queue,
            sampleCommit(repo, `group-${stageSlots}-${chained}-${i}`),
            staged,
          );
          if (i > 0) walls.push(groupMs(r)); // the first is a warm-up
        }
      });
      return walls;
    };
    const parallelSlots = await group(slots, false);
    const parallelFree = await group(100, false);
    const inARow = await group(100, true);

    const cold = median(rows.cold.map((r) => r.wallMs));
    const again = median(rows.again.map((r) => r.wallMs));
    const changed = median(rows.changed.map((r) => r.wallMs));
    const bash = median(rows.script);
    const lines = [
      `${availableParallelism()} cores, ${rounds} rounds, TOLLGATE_STAGE_SLOTS=${slots}, load average ${load.join(' / ')} at start. Medians; each round's figures after the semicolon.`,
      '',
      '| run | wall | ÷ script | stages from the cache | each round |',
      '| --- | --- | --- | --- | --- |',
      `| cold release (new commit; dependencies restored) | ${secs(cold)} | **${(cold / bash).toFixed(2)}** | 0 of ${rows.cold[0]!.stages} | ${list(rows.cold.map((r) => r.wallMs))} |`,
      `| re-release of the same commit | ${secs(again)} | **${(again / bash).toFixed(2)}** (${((again / cold) * 100).toFixed(1)} % of cold) | ${rows.again[0]!.cached} of ${rows.again[0]!.stages} | ${list(rows.again.map((r) => r.wallMs))} |`,
      `| after a one-line source change | ${secs(changed)} | ${(changed / bash).toFixed(2)} | ${rows.changed[0]!.cached} of ${rows.changed[0]!.stages} | ${list(rows.changed.map((r) => r.wallMs))} |`,
      `| the same commands in a bash script (node_modules installed) | ${secs(bash)} | 1.00 | – | ${list(rows.script)} |`,
      '',
      '| part | time | each run |',
      '| --- | --- | --- |',
      `| packing the artifact (build stage with its steps reduced to \`true\`) | ${secs(median(packing))} | ${list(packing)} |`,
      `| revenue checks in parallel, CPU slots ${slots}, RAG check light (first start → last end) | ${secs(median(parallelSlots))} | ${list(parallelSlots)} |`,
      `| revenue checks in parallel, no slots | ${secs(median(parallelFree))} | ${list(parallelFree)} |`,
      `| revenue checks in a row | ${secs(median(inARow))} | ${list(inARow)} |`,
      '',
      'Per stage (median ms): ' +
        Object.keys(rows.cold[0]!.perStage)
          .map((name) => {
            const of = (rs: Release[]): string => median(rs.map((r) => r.perStage[name] ?? NaN)).toFixed(0);
            return `${name} ${of(rows.cold)} cold / ${of(rows.again)} cached / ${of(rows.changed)} changed`;
          })
          .join('; '),
    ];
    console.log(lines.join('\n'));
    if (values.markdown) {
      mkdirSync(join(values.markdown, '..'), { recursive: true });
      writeFileSync(values.markdown, `${lines.join('\n')}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await env.teardown();
  }
}

await main();
