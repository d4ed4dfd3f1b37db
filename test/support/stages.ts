/** Stage plans made of small shell scripts that leave marker files, and fixture repositories, for pipeline tests. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EnvironmentPlan, ReleaseInput, SourceRef, StagePlan } from '../../src/types.js';

/** Runs git in `dir` with a fixed identity (tests never depend on the machine's git config). */
export function gitIn(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'test',
      GIT_AUTHOR_EMAIL: 'test@localhost',
      GIT_COMMITTER_NAME: 'test',
      GIT_COMMITTER_EMAIL: 'test@localhost',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
  })
    .toString()
    .trim();
}

/**
 * A git repository at `dir` with `files` (path → content) committed; returns the commit as a
 * release's source. Calling it again on the same dir commits the new files on top.
 */
export function fixtureRepo(
  dir: string,
  files: Record<string, string> = { 'README.md': 'fixture\n' },
  subdir = '',
): SourceRef {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, '.git'))) gitIn(dir, 'init', '--quiet', '--initial-branch=main');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  gitIn(dir, 'add', '--all');
  gitIn(dir, 'commit', '--quiet', '--allow-empty', '-m', `fixture ${Object.keys(files).join(', ')}`);
  return sourceAt(dir, 'HEAD', subdir);
}

/** The commit `revision` of the repository at `dir`, as a release's source. */
export function sourceAt(dir: string, revision = 'HEAD', subdir = ''): SourceRef {
  return {
    repository: dir,
    commit: gitIn(dir, 'rev-parse', `${revision}^{commit}`),
    tree: gitIn(dir, 'rev-parse', `${revision}^{tree}`),
    subdir,
    revision,
  };
}

/** A stage that runs `script` in sh, recording "start <ms>" and "end <ms>" lines in markers/<stage>. */
export function shStage(name: string, script: string, overrides: Partial<StagePlan> = {}): StagePlan {
  const mark = (what: string): string => `echo "${what} $(date +%s%3N)" >> "$MARKERS/${name}"`;
  return {
    name,
    needs: [],
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

/** The sample app's graph: health, tests, three revenue gates in parallel, then the build. */
export const REVENUE_GATES = [
  'test-stripe-integration',
  'test-rag-engine',
  'verify-revenue-metrics',
] as const;

/** The sample app's six command stages as quick scripts, with `overrides` replacing any by name (keeping its needs). */
export function pipelineStages(overrides: Record<string, StagePlan> = {}): StagePlan[] {
  const defaults: StagePlan[] = [
    shStage('quick-health-check', 'echo healthy'),
    shStage('test-suite', 'echo tests passed', { needs: ['quick-health-check'] }),
    ...REVENUE_GATES.map((name) => shStage(name, 'sleep 1', { needs: ['test-suite'] })),
    { ...buildStage(), needs: [...REVENUE_GATES] },
  ];
  return defaults.map((plan) =>
    overrides[plan.name] ? { ...overrides[plan.name]!, needs: plan.needs } : plan,
  );
}

/**
 * A release input for a fixture app whose steps write markers under `dir`: its source is a
 * fixture repository in `dir/repo` (made on first use).
 */
export function releaseInput(
  dir: string,
  stages: StagePlan[],
  extra: Partial<ReleaseInput> = {},
): ReleaseInput {
  const withMarkers = stages.map((s) => ({ ...s, env: { ...s.env, MARKERS: join(dir, 'markers') } }));
  const repo = join(dir, 'repo');
  return {
    schemaVersion: 2,
    app: 'fixture',
    source: existsSync(join(repo, '.git')) ? sourceAt(repo) : fixtureRepo(repo),
    runner: 'host',
    requestedBy: 'test',
    stages: withMarkers,
    environments: [],
    dependencies: [],
    ...extra,
  };
}

/** The marker lines a stage left: one "start" per execution. */
export function markers(dir: string, stage: string): { starts: number[]; ends: number[] } {
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

/** A local environment of `app` on `port` that starts `node dist/server.js` with no env and no secrets. */
export function environmentPlan(app: string, name: string, port: number): EnvironmentPlan {
  return {
    app,
    name,
    driver: 'local',
    port,
    start: ['node', 'dist/server.js'],
    env: {},
    secrets: [],
    healthPath: '/healthz',
    readyPath: '/readyz',
  };
}
