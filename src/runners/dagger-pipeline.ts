/** A stage plan as a Dagger container chain: image, source, caches, dependencies, services, env, secrets, one withExec per step. */
import type { Client, Container, ReturnType } from '@dagger.io/dagger';
import { FailureType } from '../failures.js';
import type { CommandPlan, StepPlan } from '../types.js';
import { cachePlan, containerEnv } from './dagger-plan.js';
import type { DaggerFailure } from './dagger-errors.js';

/** Where the source directory is mounted, and the steps' working directory. */
export const WORKDIR = '/src';

/** Never uploaded to the engine: host-specific installs, VCS data, Tollgate's state, old builds. */
export const SOURCE_EXCLUDES = ['node_modules', '.git', '.tollgate', 'dist'];

/** What a stage container is built from besides the plan. */
export interface StageInputs {
  sourceDir: string;
  secrets: Record<string, string>;
  /** The dependency install to run before the steps (see installCommand), if any. */
  install?: string[];
  /** Set when the plan may not be cached: a value that changes per attempt, so every exec reruns. */
  cacheBust?: string;
}

/** Receives a stage's progress while its steps run. */
export interface StepReporter {
  step(label: string): void;
  output(text: string): void;
}

/** A stage's container before and after its dependency install. */
export interface StageContainers {
  /**
   * Image, caches, source and the installed dependencies: nothing stage-specific, so every stage with
   * the same image and source asks for the identical chain, and a real engine runs the install once
   * and answers the other stages from its cache (cache volumes are not part of the cache key).
   */
  deps: Container;
  /** `deps` plus the stage's name, services, env and secrets: where its steps run. */
  stage(deps: Container): Container;
}

/** Builds the containers of a stage. Secrets go through setSecret only, never plain env, and never reach the install. */
export function stageContainers(client: Client, plan: CommandPlan, inputs: StageInputs): StageContainers {
  const caches = plan.cache ? cachePlan(inputs.install, plan.steps) : undefined;
  let deps = client.container().from(plan.image);
  for (const [path, key] of caches?.beforeInstall ?? []) {
    deps = deps.withMountedCache(path, client.cacheVolume(key));
  }
  if (!caches && inputs.cacheBust !== undefined) {
    deps = deps.withEnvVariable('TOLLGATE_CACHE_BUST', inputs.cacheBust);
  }
  deps = deps
    .withMountedDirectory(WORKDIR, client.host().directory(inputs.sourceDir, { exclude: SOURCE_EXCLUDES }))
    .withWorkdir(WORKDIR);
  const stage = (installed: Container): Container => {
    let container = installed;
    for (const [path, key] of caches?.afterInstall ?? []) {
      container = container.withMountedCache(path, client.cacheVolume(key));
    }
    container = container.withEnvVariable('TOLLGATE_STAGE', plan.name);
    for (const service of plan.services ?? []) {
      // The service's own entrypoint (stripe-mock's image has one and no CMD); reachable as http://<name>:<port>.
      const bound = client
        .container()
        .from(service.image)
        .withExposedPort(service.port)
        .asService({ useEntrypoint: true });
      container = container.withServiceBinding(service.name, bound);
    }
    for (const [name, value] of Object.entries(containerEnv(plan))) {
      container = container.withEnvVariable(name, value);
    }
    for (const [name, value] of Object.entries(inputs.secrets)) {
      container = container.withSecretVariable(name, client.setSecret(name, value));
    }
    return container;
  };
  return { deps, stage };
}

/** Runs the install in the shared prefix; the container with dependencies, or why the install failed. */
export async function installDependencies(
  deps: Container,
  install: string[],
  retryableExitCodes: number[],
  expectAny: ReturnType,
  reporter: StepReporter,
): Promise<{ container: Container } | { failure: DaggerFailure }> {
  const label = `install dependencies (${install.join(' ')})`;
  reporter.step(label);
  const run = await execStep(deps, install, {}, expectAny);
  reporter.output(run.output);
  const failure = exitFailure(label, run.exitCode, retryableExitCodes);
  return failure ? { failure } : { container: run.container };
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
  plan: Pick<CommandPlan, 'env' | 'retryableExitCodes'>,
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
