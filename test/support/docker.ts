/**
 * Helpers for the tests against the real Docker engine (scripts/images up starts it and serves the
 * base image from a registry on loopback): an environment per test, and everything it made removed.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { createEnvironment } from '../../src/environments/index.js';
import type { Environment } from '../../src/environments/environment.js';
import { envPaths, stopEnvironment } from '../../src/environments/local/index.js';
import { freePort } from '../../src/environments/local/net.js';
import { environmentKeyOf, LABEL } from '../../src/environments/docker/runtime.js';
import type { DockerPlan } from '../../src/types.js';
import { removeHome, tempHome } from '../environments/local-harness.js';
import { ROOT } from './temporal.js';

/** The base image host builds go on: scripts/images' node:20-slim, from the loopback registry. */
export const BASE_IMAGE = process.env.TOLLGATE_TEST_BASE_IMAGE ?? '127.0.0.1:5000/library/node:20-slim';

/** The engine the tests use (DOCKER_HOST, else the default socket). */
export const docker = new Docker();

/**
 * Stops, starts or restarts the dockerd scripts/images up started, without blocking this process:
 * request loops and workers in the test keep running meanwhile. Fails with the script's stderr.
 */
export async function engineControl(
  command: 'engine-stop' | 'engine-start' | 'engine-restart',
): Promise<void> {
  await promisify(execFile)('bash', [join(ROOT, 'scripts/images'), command]).catch(
    (err: Error & { stderr?: string }) => {
      throw new Error(`scripts/images ${command} failed: ${err.stderr ?? err.message}`);
    },
  );
}

/** The docker settings a test environment gets, with `extra` over them. */
export function dockerPlan(extra: Partial<DockerPlan> = {}): DockerPlan {
  return {
    restart: 'unless-stopped',
    baseImage: BASE_IMAGE,
    user: '1000:1000',
    containerPort: 8080,
    ...extra,
  };
}

/** A docker environment in a fresh home on a free port; stopped, its containers and home removed after the test. */
export async function dockerEnvironment(
  t: TestContext,
  options: { app?: string; name?: string; docker?: Partial<DockerPlan>; readyTimeoutMs?: number } = {},
): Promise<{ env: Environment; home: string; port: number; key: { app: string; name: string } }> {
  const home = await tempHome();
  const port = await freePort();
  const key = { app: options.app ?? 'fixture', name: options.name ?? 'production' };
  t.after(async () => {
    await stopEnvironment(envPaths(home, key)).catch(() => undefined);
    await removeContainersOf(home, key);
    await removeHome(home);
  });
  const env = fixtureDockerEnvironment(home, port, key, options.docker);
  return { env, home, port, key };
}

/** The docker environment `key` of the fixture app (node dist/server.js, /healthz, /readyz) under `home`. */
export function fixtureDockerEnvironment(
  home: string,
  port: number,
  key: { app: string; name: string },
  extra: Partial<DockerPlan> = {},
): Environment {
  return createEnvironment(
    {
      ...key,
      driver: 'docker',
      port,
      start: ['node', 'dist/server.js'],
      env: {},
      secrets: [],
      healthPath: '/healthz',
      readyPath: '/readyz',
      docker: dockerPlan(extra),
    },
    home,
  );
}

/** The containers of one environment, as the engine lists them. */
export async function containersOf(
  home: string,
  key: { app: string; name: string },
): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${LABEL.app}=${key.app}`] } });
  const hash = environmentKeyOf(envPaths(home, key).dir);
  return all.filter((c) => c.Labels[LABEL.key] === hash);
}

async function removeContainersOf(home: string, key: { app: string; name: string }): Promise<void> {
  for (const c of await containersOf(home, key).catch(() => []))
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
}
