/** `tollgate doctor`: what this machine would use — config, runner, tools, Temporal server. */
import { execFileSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../config/index.js';
import { ExitCode } from '../cli/exit.js';
import { ENSURE_TOOLS } from '../cli/tools.js';
import { isListening } from '../cli/dev-server.js';
import { RunnerSelector } from '../runners/select.js';
import { loadSettings } from '../settings.js';
import { maskSecretLike } from '../mask.js';

/** Options of `tollgate doctor`. */
export interface DoctorOptions {
  config?: string;
  json?: boolean;
}

/** Prints one line per check; exit 1 when something the pipeline needs is missing. */
export async function doctor(options: DoctorOptions): Promise<number> {
  const settings = loadSettings();
  const checks: { name: string; ok: boolean; detail: string }[] = [];

  try {
    const config = await loadConfig(options.config);
    checks.push({
      name: 'config',
      ok: true,
      detail: `${config.configPath}: app ${config.app}, ${config.stages.length} stages`,
    });
    const runners = new RunnerSelector(settings.runnerOverride);
    checks.push({
      name: 'runner',
      ok: true,
      detail: `config says ${config.runner}${settings.runnerOverride ? ` (TOLLGATE_RUNNER=${settings.runnerOverride})` : ''} → ${runners.resolve(config.runner)}; ${runners.describe()}`,
    });
  } catch (error) {
    checks.push({
      name: 'config',
      ok: false,
      detail: error instanceof ConfigError ? error.message : maskSecretLike(String(error)),
    });
  }
  for (const tool of ['temporal', 'stripe-mock'] as const) {
    // --print never installs when the tool is already there; report rather than build here.
    try {
      const path = execFileSync('bash', [ENSURE_TOOLS, '--print', tool], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
        .toString()
        .trim();
      checks.push({ name: `${tool} cli`, ok: true, detail: path });
    } catch {
      checks.push({ name: `${tool} cli`, ok: false, detail: 'not found: run scripts/ensure-tools' });
    }
  }
  const address = settings.temporal.connectionOptions.address ?? 'localhost:7233';
  const [host, port] = address.split(':');
  const reachable = await isListening(Number(port ?? 7233), host === 'localhost' ? '127.0.0.1' : host);
  checks.push({
    name: 'server',
    ok: reachable,
    detail: reachable
      ? `${address} accepts connections (UI ${settings.uiUrl})`
      : `${address} does not answer: start one with \`tollgate dev --detach\``,
  });
  checks.push({ name: 'home', ok: true, detail: `${settings.home} (task queue ${settings.taskQueue})` });

  if (options.json) console.log(JSON.stringify(checks, null, 2));
  else for (const c of checks) console.log(`${c.ok ? '✓' : '✗'} ${c.name.padEnd(16)} ${c.detail}`);
  return checks.every((c) => c.ok) ? ExitCode.Ok : ExitCode.Failed;
}
