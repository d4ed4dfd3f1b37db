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

/** Where the Dagger CLI can start its engine: the runtimes it looks for, in its order. */
const CONTAINER_RUNTIMES = ['docker', 'podman', 'nerdctl', 'finch'] as const;

/**
 * Finds an engine the way the SDK would, minus its CLI download: an existing session
 * (DAGGER_SESSION_PORT + DAGGER_SESSION_TOKEN), then `_EXPERIMENTAL_DAGGER_CLI_BIN`, then `dagger` on PATH.
 * A CLI counts only with somewhere to start its engine (`_EXPERIMENTAL_DAGGER_RUNNER_HOST`, or a
 * container runtime on PATH): without one `auto` picks the host runner, though the CLI is still
 * returned for `runner: dagger`, which then reports the engine's own error.
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
      ? withEngineHost(env, pinned, `the Dagger CLI ${pinned} (_EXPERIMENTAL_DAGGER_CLI_BIN)`)
      : { available: false, reason: `_EXPERIMENTAL_DAGGER_CLI_BIN=${pinned} is not an executable file` };
  }
  const onPath = findOnPath('dagger', env['PATH'] ?? '');
  if (onPath) return withEngineHost(env, onPath, `the Dagger CLI ${onPath} found on PATH`);
  return {
    available: false,
    reason: 'no Dagger engine: DAGGER_SESSION_PORT, _EXPERIMENTAL_DAGGER_CLI_BIN unset and no dagger on PATH',
  };
}

/** A found CLI, available if it has somewhere to start (or reach) its engine. */
function withEngineHost(env: NodeJS.ProcessEnv, cliBin: string, cli: string): DaggerDetection {
  const runnerHost = env['_EXPERIMENTAL_DAGGER_RUNNER_HOST'];
  if (runnerHost) {
    return { available: true, reason: `using ${cli}, engine at _EXPERIMENTAL_DAGGER_RUNNER_HOST`, cliBin };
  }
  for (const runtime of CONTAINER_RUNTIMES) {
    const bin = findOnPath(runtime, env['PATH'] ?? '');
    if (bin) return { available: true, reason: `using ${cli}, engine started with ${bin}`, cliBin };
  }
  return {
    available: false,
    reason: `found ${cli} but nowhere to start its engine: no ${CONTAINER_RUNTIMES.join(', ')} on PATH and _EXPERIMENTAL_DAGGER_RUNNER_HOST unset`,
    cliBin,
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
