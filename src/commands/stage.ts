/** `tollgate stage <name>`: runs one stage on this machine, no server needed. */
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { guardCommandStage, resolveSecrets } from '../activities/secrets.js';
import { loadConfigOrExit } from '../cli/config.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { StageError } from '../runners/errors.js';
import { RunnerSelector } from '../runners/select.js';
import { loadSettings } from '../settings.js';

/** Options of `tollgate stage`. */
export interface StageOptions {
  config?: string;
  quiet?: boolean;
}

/** Runs the named stage with its output on stdout; exit 0 when it passes, 1 when it fails. */
export async function stage(name: string, options: StageOptions): Promise<number> {
  const config = await loadConfigOrExit(options.config);
  const plan = config.stages.find((s) => s.name === name);
  if (!plan) {
    throw new ExitError(
      ExitCode.BadInput,
      `${config.configPath} has no stage "${name}": configured stages are ${config.stages.map((s) => s.name).join(', ')}`,
    );
  }
  if (!config.localDir) {
    throw new ExitError(
      ExitCode.BadInput,
      `tollgate stage runs in a local clone of the app, and ${config.configPath} names ${config.location.repository} with no clone here: run it in a clone`,
    );
  }
  const sourceDir = config.localDir;
  const settings = loadSettings();
  const runners = await RunnerSelector.detect(settings.runnerOverride);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const runId = `local-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    const secrets = resolveSecrets(plan.secrets, process.env, name);
    guardCommandStage(plan.name, { ...plan.env, ...secrets });
    const runner = await runners.runnerFor(config.runner);
    const result = await runner.runStage(plan, {
      runId,
      attempt: 1,
      sourceDir,
      runDir: join(settings.home, 'runs', runId),
      secrets,
      signal: controller.signal,
      ...(options.quiet ? {} : { onOutput: (chunk: string) => process.stdout.write(chunk) }),
    });
    console.log(`✓ ${name}: ${result.summary}\n  log: ${result.logPath}`);
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof StageError) {
      console.error(`✗ ${name} [${error.type}]: ${error.message}\n  log: ${error.logPath}`);
      return controller.signal.aborted ? ExitCode.Cancelled : ExitCode.Failed;
    }
    if (error instanceof ApplicationFailure)
      throw new ExitError(ExitCode.BadInput, `${name} [${error.type}]: ${error.message}`);
    if (controller.signal.aborted) return ExitCode.Cancelled;
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
