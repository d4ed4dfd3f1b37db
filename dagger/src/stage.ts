/**
 * A stage plan as containers, the way src/runners/dagger-pipeline.ts builds them for the workflow:
 * the same image, caches, dependency install, services, workdir, env and steps (dagger-plan.ts is
 * shared byte for byte). Failing steps raise ExecError here (the default `expect`), which is what a
 * `dagger call` user wants to see.
 */
import { dag, type Container, type Directory, type Secret } from '@dagger.io/dagger';
import { checkCoverage } from './coverage.js';
import {
  cacheMounts,
  cachePlan,
  containerEnv,
  installInputs,
  slimVariant,
  splitInstall,
} from './dagger-plan.js';
import type { ModuleStagePlan, ModuleStepPlan } from './plans.js';

/** Where the app's source is mounted, as in the runner. */
export const WORKDIR = '/src';
/** Where the release lives in the runtime image, as in the runner. */
export const APP_DIR = '/app';

/** Everything that is never uploaded, as in the runner. */
const SOURCE_EXCLUDES = ['node_modules', '.git', '.tollgate', 'dist'];

/**
 * The stage's container: image, caches, the manifest files, the dependency install (the shared
 * prefix, as in the runner), then the whole source, the stage's name, services, env, and the
 * declared secrets from a dotenv Secret; with the steps that are left to run on it.
 */
export async function stageContainer(
  plan: ModuleStagePlan,
  source: Directory,
  secretEnv?: Secret,
): Promise<{ container: Container; steps: ModuleStepPlan[] }> {
  const files = await source.entries();
  const { install, steps } = splitInstall(plan.steps, files);
  const caches = plan.cache ? cachePlan(install, plan.steps) : undefined;
  let container = dag.container().from(plan.image);
  for (const [path, key] of caches?.beforeInstall ?? [])
    container = container.withMountedCache(path, dag.cacheVolume(key));
  if (install) {
    container = container.withDirectory(WORKDIR, source, { include: installInputs(files) });
    container = container.withWorkdir(WORKDIR).withExec(install);
  }
  for (const [path, key] of caches?.afterInstall ?? [])
    container = container.withMountedCache(path, dag.cacheVolume(key));
  container = container.withDirectory(WORKDIR, source, { exclude: SOURCE_EXCLUDES }).withWorkdir(WORKDIR);
  container = container.withEnvVariable('TOLLGATE_STAGE', plan.name);
  for (const service of plan.services ?? []) {
    const bound = dag
      .container()
      .from(service.image)
      .withExposedPort(service.port)
      .asService({ useEntrypoint: true });
    container = container.withServiceBinding(service.name, bound);
  }
  for (const [name, value] of Object.entries(containerEnv(plan)))
    container = container.withEnvVariable(name, value);
  if (plan.secrets.length === 0) return { container, steps };
  const values = parseDotenv(secretEnv ? await secretEnv.plaintext() : '');
  for (const name of plan.secrets) {
    const value = values.get(name);
    if (value === undefined)
      throw new Error(`${plan.name} needs secret ${name}: pass --secret-env with a ${name}=... line`);
    container = container.withSecretVariable(name, dag.setSecret(name, value));
  }
  return { container, steps };
}

/** Runs the steps in order (a failing step fails the call) and applies the coverage gate; returns the output. */
export async function runSteps(
  plan: ModuleStagePlan,
  start: { container: Container; steps: ModuleStepPlan[] },
): Promise<{ container: Container; output: string }> {
  let container = start.container;
  let output = '';
  const stageEnv = containerEnv(plan);
  for (const step of start.steps) {
    for (const [name, value] of Object.entries(step.env)) container = container.withEnvVariable(name, value);
    container = container.withExec(step.run);
    output += `$ ${step.run.join(' ')}\n${await container.combinedOutput()}`;
    for (const name of Object.keys(step.env)) {
      const stageValue = stageEnv[name];
      container =
        stageValue === undefined
          ? container.withoutEnvVariable(name)
          : container.withEnvVariable(name, stageValue);
    }
  }
  if (plan.coverageMinimum !== undefined) {
    const shortfall = checkCoverage(output, plan.coverageMinimum);
    if (shortfall) throw new Error(`${plan.name}: ${shortfall}`);
  }
  return { container, output };
}

/** The multi-stage image: build output and production dependencies only, in the runtime image (`images.runtime`, else the `-slim` variant). */
export function runtimeImage(plan: ModuleStagePlan, build: Container, revision: string): Container {
  const artifact = plan.artifact;
  if (!artifact) throw new Error(`${plan.name} has no artifact section in tollgate.config.ts`);
  let image = dag
    .container()
    .from(artifact.runtimeImage ?? slimVariant(plan.image))
    .withWorkdir(APP_DIR)
    .withDirectory(APP_DIR, build.directory(WORKDIR), { include: artifact.include })
    .withEnvVariable('NODE_ENV', 'production');
  const caches = cacheMounts([artifact.install]);
  for (const [path, key] of caches) image = image.withMountedCache(path, dag.cacheVolume(key));
  image = image.withExec(artifact.install);
  for (const [path] of caches) image = image.withoutMount(path);
  return image
    .withLabel('org.opencontainers.image.revision', revision)
    .withLabel('org.opencontainers.image.created', new Date().toISOString())
    .withDefaultArgs(['npm', 'start']);
}

function parseDotenv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.trimStart().startsWith('#')) values.set(line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  return values;
}
