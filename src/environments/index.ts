/**
 * The driver an environment's config names: `local` (host processes) or `docker` (containers under
 * a Docker engine). Both run under the environment's supervisor, behind Tollgate's switching proxy.
 */
import type { DockerPlan, EnvironmentPlan } from '../types.js';
import { DEFAULT_ENGINE } from './docker/engine.js';
import type { Environment } from './environment.js';
import { createLocalEnvironment } from './local/index.js';
import type { DockerRuntimeOptions, RuntimeOptions } from './local/runtime.js';

/** An environment plan as activities may receive it: the workflow code of 0.1 names no app (see envPaths). */
export type EnvironmentPlanArg = Omit<EnvironmentPlan, 'app' | 'driver'> & {
  app?: string;
  driver?: EnvironmentPlan['driver'];
};

/** The docker driver's runtime settings; the engine from the config, else DOCKER_HOST, else the default socket. */
export function dockerRuntime(plan: DockerPlan, workerEnv: NodeJS.ProcessEnv): DockerRuntimeOptions {
  return {
    kind: 'docker',
    engine: plan.engine ?? workerEnv.DOCKER_HOST ?? DEFAULT_ENGINE,
    restart: plan.restart,
    baseImage: plan.baseImage,
    user: plan.user,
    containerPort: plan.containerPort,
    ...(plan.network ? { network: plan.network } : {}),
    ...(plan.memory ? { memoryMb: plan.memory } : {}),
    ...(plan.cpus ? { cpus: plan.cpus } : {}),
  };
}

/** What runs the plan's releases. */
export function runtimeOf(plan: EnvironmentPlanArg, workerEnv: NodeJS.ProcessEnv): RuntimeOptions {
  if (plan.driver !== 'docker') return { kind: 'process' };
  return dockerRuntime(
    plan.docker ?? {
      restart: 'unless-stopped',
      baseImage: 'node:20-slim',
      user: '1000:1000',
      containerPort: 8080,
    },
    workerEnv,
  );
}

/** The driver for environment `plan`, kept under `<home>/envs/<app>/<name>/`. */
export function createEnvironment(
  plan: EnvironmentPlanArg,
  home: string,
  workerEnv: NodeJS.ProcessEnv = process.env,
): Environment {
  return createLocalEnvironment({
    ...(plan.app ? { app: plan.app } : {}),
    name: plan.name,
    port: plan.port,
    home,
    runtime: runtimeOf(plan, workerEnv),
  });
}
