/** A stage plan as a Dagger container chain: image, source, caches, env, secrets, one withExec per step. */
import type { Client, Container, ReturnType } from '@dagger.io/dagger';
import { FailureType } from '../failures.js';
import type { StagePlan, StepPlan } from '../types.js';
import type { DaggerFailure } from './dagger-errors.js';

/** Where the source directory is mounted, and the steps' working directory. */
export const WORKDIR = '/src';

/** Never uploaded to the engine: host-specific installs, VCS data, Tollgate's state, old builds. */
export const SOURCE_EXCLUDES = ['node_modules', '.git', '.tollgate', 'dist'];

/** Package-manager caches by the command that uses them: [mount path, cache volume key]. */
const CACHES: Record<string, [string, string]> = {
  npm: ['/root/.npm', 'tollgate-npm'],
  npx: ['/root/.npm', 'tollgate-npm'],
  pnpm: ['/root/.local/share/pnpm/store', 'tollgate-pnpm'],
  yarn: ['/usr/local/share/.cache/yarn', 'tollgate-yarn'],
};

/** What a stage container is built from besides the plan. */
export interface StageInputs {
  sourceDir: string;
  secrets: Record<string, string>;
  /** Set when the plan may not be cached: a value that changes per attempt, so every exec reruns. */
  cacheBust?: string;
}

/** Receives a stage's progress while its steps run. */
export interface StepReporter {
  step(label: string): void;
  output(text: string): void;
}

/** The cache mounts a list of commands needs (npm by default: the image is a Node image). */
export function cacheMounts(commands: string[][]): [string, string][] {
  const mounts = new Map<string, string>();
  for (const argv of commands) {
    const cache = CACHES[argv[0] ?? ''];
    if (cache) mounts.set(cache[0], cache[1]);
  }
  if (mounts.size === 0) mounts.set(...(CACHES['npm'] as [string, string]));
  return [...mounts];
}

/** The container a stage's steps run in. Secrets go through setSecret only, never plain env. */
export function stageContainer(client: Client, plan: StagePlan, inputs: StageInputs): Container {
  let container = client.container().from(plan.image);
  if (plan.cache) {
    for (const [path, key] of cacheMounts(plan.steps.map((step) => step.run))) {
      container = container.withMountedCache(path, client.cacheVolume(key));
    }
  } else if (inputs.cacheBust !== undefined) {
    container = container.withEnvVariable('TOLLGATE_CACHE_BUST', inputs.cacheBust);
  }
  container = container
    .withMountedDirectory(WORKDIR, client.host().directory(inputs.sourceDir, { exclude: SOURCE_EXCLUDES }))
    .withWorkdir(WORKDIR)
    .withEnvVariable('TOLLGATE_STAGE', plan.name);
  for (const [name, value] of Object.entries(plan.env)) container = container.withEnvVariable(name, value);
  for (const [name, value] of Object.entries(inputs.secrets)) {
    container = container.withSecretVariable(name, client.setSecret(name, value));
  }
  return container;
}

/** The result of running steps: the container after the last one that ran, and its output. */
export interface StepsOutcome {
  container: Container;
  transcript: string;
  failure?: DaggerFailure;
}

/**
 * Runs steps in order and stops at the first non-zero exit. Each exec uses `expect: ANY` and then
 * reads `exitCode` and `combinedOutput`: a failing step is a value, not an exception, so its exit
 * code and interleaved output arrive the same way as a passing step's (an engine that still raises
 * ExecError is handled by classifyDaggerError).
 */
export async function runSteps(
  start: Container,
  plan: Pick<StagePlan, 'env' | 'retryableExitCodes'>,
  steps: StepPlan[],
  expectAny: ReturnType,
  reporter: StepReporter,
): Promise<StepsOutcome> {
  let container = start;
  let transcript = '';
  for (const [index, step] of steps.entries()) {
    const label = `step ${index + 1}/${steps.length} (${step.run.join(' ')})`;
    reporter.step(label);
    const run = await execStep(container, step.run, step.env, expectAny);
    reporter.output(run.output);
    transcript += run.output;
    const failure = exitFailure(label, run.exitCode, plan.retryableExitCodes);
    if (failure) return { container: run.container, transcript, failure };
    container = scopeEnv(run.container, step.env, plan.env);
  }
  return { container, transcript };
}

/** One exec with the step's env; returns the container after it, its exit code and output. */
export async function execStep(
  container: Container,
  argv: string[],
  env: Record<string, string>,
  expectAny: ReturnType,
): Promise<{ container: Container; exitCode: number; output: string }> {
  let next = container;
  for (const [name, value] of Object.entries(env)) next = next.withEnvVariable(name, value);
  next = next.withExec(argv, { expect: expectAny });
  const exitCode = await next.exitCode();
  const output = await next.combinedOutput();
  return { container: next, exitCode, output };
}

/** A failure for a non-zero exit, or undefined for zero. */
export function exitFailure(
  label: string,
  exitCode: number,
  retryableExitCodes: number[],
): DaggerFailure | undefined {
  if (exitCode === 0) return undefined;
  if (retryableExitCodes.includes(exitCode)) {
    return {
      type: FailureType.StepInterrupted,
      exitCode,
      message: `${label} exited with ${exitCode} (retryable by config)`,
    };
  }
  return { type: FailureType.StepFailed, exitCode, message: `${label} exited with ${exitCode}` };
}

/** A step's env applies to that step only, as on the host: undo it (or restore the stage's value). */
function scopeEnv(
  container: Container,
  stepEnv: Record<string, string>,
  stageEnv: Record<string, string>,
): Container {
  let next = container;
  for (const name of Object.keys(stepEnv)) {
    const stageValue = stageEnv[name];
    next = stageValue === undefined ? next.withoutEnvVariable(name) : next.withEnvVariable(name, stageValue);
  }
  return next;
}
