/**
 * A stage plan as containers, the way src/runners/dagger-pipeline.ts builds them for the workflow:
 * the same image, workdir, caches, env and steps. Failing steps raise ExecError here (the default
 * `expect`), which is what a `dagger call` user wants to see.
 */
import { dag, type Container, type Directory, type Secret } from '@dagger.io/dagger';
import { checkCoverage } from './coverage.js';
import type { ModuleStagePlan } from './plans.js';

/** Where the app's source is mounted, as in the runner. */
export const WORKDIR = '/src';
/** Where the release lives in the runtime image, as in the runner. */
export const APP_DIR = '/app';

/** The stage's container: image, npm cache, source, env, and the declared secrets from a dotenv Secret. */
export async function stageContainer(
  plan: ModuleStagePlan,
  source: Directory,
  secretEnv?: Secret,
): Promise<Container> {
  let container = dag.container().from(plan.image);
  if (plan.cache) container = container.withMountedCache('/root/.npm', dag.cacheVolume('tollgate-npm'));
  container = container
    .withMountedDirectory(WORKDIR, source)
    .withWorkdir(WORKDIR)
    .withEnvVariable('TOLLGATE_STAGE', plan.name);
  for (const [name, value] of Object.entries(plan.env)) container = container.withEnvVariable(name, value);
  if (plan.secrets.length === 0) return container;
  const values = parseDotenv(secretEnv ? await secretEnv.plaintext() : '');
  for (const name of plan.secrets) {
    const value = values.get(name);
    if (value === undefined)
      throw new Error(`${plan.name} needs secret ${name}: pass --secret-env with a ${name}=... line`);
    container = container.withSecretVariable(name, dag.setSecret(name, value));
  }
  return container;
}

/** Runs the steps in order (a failing step fails the call) and applies the coverage gate; returns the output. */
export async function runSteps(
  plan: ModuleStagePlan,
  start: Container,
): Promise<{ container: Container; output: string }> {
  let container = start;
  let output = '';
  for (const step of plan.steps) {
    for (const [name, value] of Object.entries(step.env)) container = container.withEnvVariable(name, value);
    container = container.withExec(step.run);
    output += `$ ${step.run.join(' ')}\n${await container.combinedOutput()}`;
    for (const name of Object.keys(step.env)) {
      const stageValue = plan.env[name];
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

/** The multi-stage image: build output and production dependencies only, in the `-slim` runtime image. */
export function runtimeImage(plan: ModuleStagePlan, build: Container, revision: string): Container {
  const artifact = plan.artifact;
  if (!artifact) throw new Error(`${plan.name} has no artifact section in tollgate.config.ts`);
  return dag
    .container()
    .from(slimVariant(plan.image))
    .withWorkdir(APP_DIR)
    .withDirectory(APP_DIR, build.directory(WORKDIR), { include: artifact.include })
    .withEnvVariable('NODE_ENV', 'production')
    .withMountedCache('/root/.npm', dag.cacheVolume('tollgate-npm'))
    .withExec(artifact.install)
    .withoutMount('/root/.npm')
    .withLabel('org.opencontainers.image.revision', revision)
    .withLabel('org.opencontainers.image.created', new Date().toISOString())
    .withDefaultArgs(['npm', 'start']);
}

/** `node:20` → `node:20-slim`, as the runner does for official images with a slim variant. */
export function slimVariant(image: string): string {
  const match = /^((?:docker\.io\/)?(?:library\/)?(node|python|ruby|debian))(?::([^@]+))?$/.exec(image);
  if (!match) return image;
  const tag = match[3] ?? 'latest';
  if (/slim|alpine/.test(tag)) return image;
  return tag === 'latest' ? `${match[1]}:slim` : `${match[1]}:${tag}-slim`;
}

function parseDotenv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.trimStart().startsWith('#')) values.set(line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  return values;
}
