/** Whether a Dagger engine can be used from this process. Pure check: never loads the SDK. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The answer of detectDagger; `reason` is one line for the worker's log. */
export interface DaggerDetection {
  available: boolean;
  reason: string;
  /** The CLI the runner hands to the SDK through `_EXPERIMENTAL_DAGGER_CLI_BIN`. */
  cliBin?: string;
}

/**
 * Finds an engine the way the SDK would, minus its CLI download: an existing session
 * (DAGGER_SESSION_PORT + DAGGER_SESSION_TOKEN), then `_EXPERIMENTAL_DAGGER_CLI_BIN`, then `dagger` on PATH.
 */
export function detectDagger(env: NodeJS.ProcessEnv = process.env): DaggerDetection {
  const port = env['DAGGER_SESSION_PORT'];
  if (port) {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      return { available: false, reason: `DAGGER_SESSION_PORT=${port} is not a TCP port` };
    }
    if (!env['DAGGER_SESSION_TOKEN']) {
      return { available: false, reason: 'DAGGER_SESSION_PORT is set but DAGGER_SESSION_TOKEN is not' };
    }
    return { available: true, reason: `using the Dagger session on 127.0.0.1:${port} (DAGGER_SESSION_PORT)` };
  }
  const pinned = env['_EXPERIMENTAL_DAGGER_CLI_BIN'];
  if (pinned) {
    // A pinned CLI that is broken is reported, not silently replaced by another one on PATH.
    return isExecutable(pinned)
      ? {
          available: true,
          reason: `using the Dagger CLI ${pinned} (_EXPERIMENTAL_DAGGER_CLI_BIN)`,
          cliBin: pinned,
        }
      : { available: false, reason: `_EXPERIMENTAL_DAGGER_CLI_BIN=${pinned} is not an executable file` };
  }
  const onPath = findOnPath('dagger', env['PATH'] ?? '');
  if (onPath) {
    return { available: true, reason: `using the Dagger CLI ${onPath} found on PATH`, cliBin: onPath };
  }
  return {
    available: false,
    reason: 'no Dagger engine: DAGGER_SESSION_PORT, _EXPERIMENTAL_DAGGER_CLI_BIN unset and no dagger on PATH',
  };
}

function findOnPath(name: string, pathList: string): string | undefined {
  for (const dir of pathList.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue; // a relative PATH entry would depend on the cwd
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
