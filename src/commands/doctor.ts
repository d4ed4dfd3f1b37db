/** `tollgate doctor`: what this machine would use — config, runner, tools, Temporal server. */
import { execFileSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../config/index.js';
import { ExitCode } from '../cli/exit.js';
import { ENSURE_TOOLS } from '../cli/tools.js';
import { isListening } from '../cli/dev-server.js';
import { RunnerSelector } from '../runners/select.js';
import { connectClient } from '../cli/connect.js';
import { printJson } from '../cli/json.js';
import { noWorkerMessage, taskQueuePollers } from '../cli/pollers.js';
import { loadSettings, type Settings } from '../settings.js';
import { maskSecretLike } from '../mask.js';

/** One line of the report. */
interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Options of `tollgate doctor`. */
export interface DoctorOptions {
  config?: string;
  json?: boolean;
}

/** Prints one line per check; exit 1 when something the pipeline needs is missing. */
export async function doctor(options: DoctorOptions): Promise<number> {
  const settings = loadSettings();
  const checks: Check[] = [];

  try {
    const config = await loadConfig(options.config);
    checks.push({
      name: 'config',
      ok: true,
      detail: `${config.configPath}: app ${config.app}, ${config.stages.length} stages`,
    });
    const runners = await RunnerSelector.detect(settings.runnerOverride);
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
  if (reachable) checks.push(...(await workerChecks(settings, address)));
  checks.push({ name: 'home', ok: true, detail: `${settings.home} (task queue ${settings.taskQueue})` });

  if (options.json) printJson('doctor', { ok: checks.every((c) => c.ok), checks });
  else for (const c of checks) console.log(`${c.ok ? '✓' : '✗'} ${c.name.padEnd(16)} ${c.detail}`);
  return checks.every((c) => c.ok) ? ExitCode.Ok : ExitCode.Failed;
}

/** Whether workers poll the task queues this machine sends work to (the server's description of them). */
async function workerChecks(settings: Settings, address: string): Promise<Check[]> {
  const queues = [settings.taskQueue, ...(settings.buildTaskQueue ? [settings.buildTaskQueue] : [])];
  let connected: Awaited<ReturnType<typeof connectClient>>;
  try {
    connected = await connectClient(settings);
  } catch (error) {
    return [
      {
        name: 'worker',
        ok: false,
        detail: maskSecretLike(error instanceof Error ? error.message : String(error)),
      },
    ];
  }
  try {
    return await Promise.all(
      queues.map(async (queue): Promise<Check> => {
        const name = queue === settings.taskQueue ? 'worker' : 'build worker';
        try {
          const { workflow, activity } = await taskQueuePollers(connected.client, queue);
          // The main queue carries workflow tasks (the release's steps) and activities (its stages);
          // a build queue only activities.
          const missing = activity.length === 0 || (queue === settings.taskQueue && workflow.length === 0);
          if (missing) return { name, ok: false, detail: noWorkerMessage(queue, address) };
          const seen = activity.map((p) => `${p.identity} (${Math.round(p.lastSeenMs / 1000)} s ago)`);
          return {
            name,
            ok: true,
            detail: `${activity.length} polling task queue ${queue}: ${seen.join(', ')}`,
          };
        } catch (error) {
          return {
            name,
            ok: false,
            detail: `cannot describe task queue ${queue}: ${maskSecretLike(error instanceof Error ? error.message : String(error))}`,
          };
        }
      }),
    );
  } finally {
    await connected.connection.close();
  }
}
