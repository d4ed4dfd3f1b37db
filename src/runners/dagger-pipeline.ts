/** A stage plan as a Dagger container chain: image, source, caches, dependencies, services, env, secrets, one withExec per step. */
import type { Client, Container, ReturnType } from '@dagger.io/dagger';
import type { ImageUse } from '../config/images.js';
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
  /** The dependency install (see splitInstall) and the root files it reads (see installInputs), if any. */
  install?: { argv: string[]; inputs: string[] };
  /**
   * Unique to this attempt. Set before the steps (never before the install): the engine would
   * otherwise answer a step from its cache, a failure as well as a pass, and a retry would replay
   * the failure without running anything. When the plan may not be cached it goes before the install too.
   */
  attemptKey: string;
  /** A PEM file of extra CA certificates on the worker (TOLLGATE_EXTRA_CA_CERTS), trusted by Node in the containers. */
  extraCaCerts?: string;
}

/** Where the extra CA certificates are mounted in a container. */
export const EXTRA_CA_PATH = '/etc/ssl/certs/tollgate-extra-ca.pem';

/**
 * Trusts the worker's extra CA certificates in a container (a proxy that re-signs TLS, a company
 * CA): Node and npm read NODE_EXTRA_CA_CERTS. Mounted, not copied: never part of an image.
 */
export function withExtraCa(client: Client, container: Container, pemFile: string | undefined): Container {
  if (!pemFile) return container;
  return container
    .withMountedFile(EXTRA_CA_PATH, client.host().file(pemFile))
    .withEnvVariable('NODE_EXTRA_CA_CERTS', EXTRA_CA_PATH);
}

/** Receives a stage's progress while its steps run. */
export interface StepReporter {
  step(label: string): void;
  output(text: string): void;
}

/** A stage's container before and after its dependency install. */
export interface StageContainers {
  /**
   * Image, caches, the manifest files and the installed dependencies: nothing stage-specific and no
   * other source file, so every stage with the same image and lockfile asks for the identical chain,
   * and a real engine runs the install once per lockfile and answers every other stage (and every
   * release whose lockfile did not change) from its cache; cache volumes are not part of the key.
   */
  deps: Container;
  /** `deps` plus the whole source, the stage's name, the attempt, services, env and secrets: where its steps run. */
  stage(deps: Container): Container;
}

/** Builds the containers of a stage. Secrets go through setSecret only, never plain env, and never reach the install. */
export function stageContainers(client: Client, plan: CommandPlan, inputs: StageInputs): StageContainers {
  const caches = plan.cache ? cachePlan(inputs.install?.argv, plan.steps) : undefined;
  let deps = withExtraCa(client, client.container().from(plan.image), inputs.extraCaCerts);
  for (const [path, key] of caches?.beforeInstall ?? []) {
    deps = deps.withMountedCache(path, client.cacheVolume(key));
  }
  if (!caches) deps = deps.withEnvVariable('TOLLGATE_CACHE_BUST', inputs.attemptKey);
  if (inputs.install) {
    const manifests = client.host().directory(inputs.sourceDir, { include: inputs.install.inputs });
    deps = deps.withDirectory(WORKDIR, manifests);
  }
  deps = deps.withWorkdir(WORKDIR);
  const stage = (installed: Container): Container => {
    let container = installed;
    for (const [path, key] of caches?.afterInstall ?? []) {
      container = container.withMountedCache(path, client.cacheVolume(key));
    }
    // Copied over the installed dependencies (node_modules is never uploaded, so it survives the copy).
    const source = client.host().directory(inputs.sourceDir, { exclude: SOURCE_EXCLUDES });
    container = container
      .withDirectory(WORKDIR, source)
      .withEnvVariable('TOLLGATE_STAGE', plan.name)
      .withEnvVariable('TOLLGATE_ATTEMPT', inputs.attemptKey);
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
  label = `install dependencies (${install.join(' ')})`,
): Promise<{ container: Container } | { failure: DaggerFailure }> {
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
 * Runs steps in order and stops at the first non-zero exit; `numbering` keeps the plan's step
 * numbers when its first step ran as the install. Each exec uses `expect: ANY` and then
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
  numbering: { before: number; total: number } = { before: 0, total: steps.length },
): Promise<StepsOutcome> {
  let container = start;
  let transcript = '';
  for (const [index, step] of steps.entries()) {
    const label = `step ${numbering.before + index + 1}/${numbering.total} (${step.run.join(' ')})`;
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

/**
 * Resolves each image before anything runs on it. The engine answers a bare `from` it cannot
 * resolve with a GraphQL error (D100, no extensions). Its message is the one place that tells the
 * two cases apart (containerd's resolver ranks a 404 above connection errors, across the mirror and
 * the origin): "…: not found" is a configuration error, named with its config field and not retried
 * (ImageNotFound); anything else ("failed to do request: …") is a registry that did not answer,
 * retried (EngineUnavailable). A dropped engine connection is left to classifyDaggerError.
 * Fills `digests` (image → reference with its digest) for the images it resolved.
 */
export async function resolveImages(
  client: Client,
  uses: ImageUse[],
  reporter: StepReporter,
  digests: Record<string, string> = {},
): Promise<DaggerFailure | undefined> {
  for (const { image, field } of uses) {
    if (digests[image] !== undefined) continue;
    reporter.step(`resolve image ${image}`);
    try {
      // The reference with its digest (`…@sha256:…`): what the stage result cache keys on.
      digests[image] = await client.container().from(image).imageRef();
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'D100') throw error;
      const said = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
      if (!/: not found$/.test(said)) {
        return {
          type: FailureType.EngineUnavailable,
          exitCode: null,
          message: `the registry of image ${image} (${field}) did not answer: ${said}`,
        };
      }
      return {
        type: FailureType.ImageNotFound,
        exitCode: null,
        message: `image ${image} (${field}) did not resolve: ${said}: check its name and tag in the config, or that the registry (or the engine's mirror) serves it`,
      };
    }
  }
  return undefined;
}
