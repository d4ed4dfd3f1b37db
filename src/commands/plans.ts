/** `tollgate plans --json`: the resolved stage plans, for the Dagger module (dagger/plans.json). */
import { printJson } from '../cli/json.js';
import { loadConfigOrExit } from '../cli/config.js';
import { ExitCode } from '../cli/exit.js';
import { releaseImages } from '../config/images.js';

/** Options of `tollgate plans`. */
export interface PlansOptions {
  config?: string;
}

/**
 * Prints `{ app, source, stages, images }`: one list of commands for the workflow and `dagger call`
 * (source: the app's folder in the repository), and every image a release can pull.
 */
export async function plans(options: PlansOptions): Promise<number> {
  const config = await loadConfigOrExit(options.config);
  const source = config.location.subdir || '.';
  const images = releaseImages(config);
  printJson('plans', { app: config.app, source, stages: config.stages, images });
  return ExitCode.Ok;
}
