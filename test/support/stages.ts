/** Stage plans made of small shell scripts that leave marker files, for pipeline tests. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageName } from '../../src/constants.js';
import type { ReleaseInput, StagePlan } from '../../src/types.js';

/** A stage that runs `script` in sh, recording "start <ms>" and "end <ms>" lines in markers/<stage>. */
export function shStage(name: StageName, script: string, overrides: Partial<StagePlan> = {}): StagePlan {
  const mark = (what: string): string => `echo "${what} $(date +%s%3N)" >> "$MARKERS/${name}"`;
  return {
    name,
    image: 'node:20-slim',
    steps: [
      {
        run: ['sh', '-c', `set -e; mkdir -p "$MARKERS"; ${mark('start')}; ${script}; ${mark('end')}`],
        env: {},
      },
    ],
    env: {},
    secrets: [],
    cache: false,
    timeoutMs: 60_000,
    retry: { initialIntervalMs: 100, backoffCoefficient: 1, maximumIntervalMs: 100, maximumAttempts: 3 },
    retryableExitCodes: [],
    ...overrides,
  };
}

/** A build stage that produces a tiny artifact offline. */
export function buildStage(): StagePlan {
  return shStage(
    'build-production-image',
    'mkdir -p dist && echo "console.log(1)" > dist/server.js && echo "{\\"name\\":\\"fixture\\",\\"version\\":\\"1.0.0\\"}" > package.json',
    { artifact: { include: ['dist', 'package.json'], install: ['true'], sbom: ['sh', '-c', 'echo "{}"'] } },
  );
}

/** The six command stages, each quick, with `overrides` replacing any by name. */
export function pipelineStages(overrides: Partial<Record<StageName, StagePlan>> = {}): StagePlan[] {
  const defaults: StagePlan[] = [
    shStage('quick-health-check', 'echo healthy'),
    shStage('test-suite', 'echo tests passed'),
    shStage('test-stripe-integration', 'sleep 1'),
    shStage('test-rag-engine', 'sleep 1'),
    shStage('verify-revenue-metrics', 'sleep 1'),
    buildStage(),
  ];
  return defaults.map((plan) => overrides[plan.name] ?? plan);
}

/** A release input for a fixture app whose steps write markers under `dir`. */
export function releaseInput(
  dir: string,
  stages: StagePlan[],
  extra: Partial<ReleaseInput> = {},
): ReleaseInput {
  const withMarkers = stages.map((s) => ({ ...s, env: { ...s.env, MARKERS: join(dir, 'markers') } }));
  return {
    app: 'fixture',
    ref: 'abc1234',
    sourceDir: dir,
    runner: 'host',
    requestedBy: 'test',
    stages: withMarkers,
    ...extra,
  };
}

/** The marker lines a stage left: one "start" per execution. */
export function markers(dir: string, stage: StageName): { starts: number[]; ends: number[] } {
  const file = join(dir, 'markers', stage);
  if (!existsSync(file)) return { starts: [], ends: [] };
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const times = (kind: string): number[] =>
    lines.filter((l) => l.startsWith(`${kind} `)).map((l) => Number(l.split(' ')[1]));
  return { starts: times('start'), ends: times('end') };
}

/**
 * True while any live process belongs to the group. Reads /proc rather than `kill(-pgid, 0)`,
 * which also succeeds for zombies: orphans wait there until init reaps them, and this
 * machine's init reaps lazily.
 */
export function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the parenthesised command: state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** True while the process runs (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}
