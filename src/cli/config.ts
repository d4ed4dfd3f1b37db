/** Loads the pipeline config for a command, turning a ConfigError into exit code 2. */
import { ConfigError, loadConfig, type ResolvedConfig } from '../config/index.js';
import { ExitCode, ExitError } from './exit.js';

/** Loads and validates the config; invalid config exits 2 with every problem listed. */
export async function loadConfigOrExit(file?: string): Promise<ResolvedConfig> {
  try {
    return await loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new ExitError(ExitCode.BadInput, error.message);
    throw error;
  }
}
