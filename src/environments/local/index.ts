/** The `local` environment: releases as supervised processes on loopback ports behind a switching proxy. */
import type { Environment } from '../environment.js';
import { LocalEnvironment, type LocalEnvironmentOptions } from './driver.js';

export { LocalEnvironment, type LocalEnvironmentOptions } from './driver.js';
export { LocalEnvironmentError } from './errors.js';
export { envPaths, type EnvironmentKey } from './paths.js';
export {
  environmentStatus,
  listLocalEnvironments,
  stopEnvironment,
  type EnvironmentStatus,
} from './status.js';

/** Creates the driver for local environment `name` of `app` on proxy port `port`, kept under `<home>/envs/<app>/<name>/`. */
export function createLocalEnvironment(options: LocalEnvironmentOptions): Environment {
  return new LocalEnvironment(options);
}
