/** `tollgate run`: starts the release pipeline for the configured app, and with --wait follows it. */
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { defaultIdentity } from '../approvals/identity.js';
import { loadConfigOrExit } from '../cli/config.js';
import { connectClient, runLink } from '../cli/connect.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { laneId, startInLane } from '../cli/lane.js';
import { follow, followOptions, reportOutcome } from '../cli/follow.js';
import { printJson } from '../cli/json.js';
import { scopeUntil } from '../config/graph.js';
import type { ResolvedConfig } from '../config/index.js';
import { SourceError } from '../source/errors.js';
import { locateSource, resolveRevision } from '../source/revision.js';
import { loadSettings } from '../settings.js';
import type { ReleaseInput, SourceRef } from '../types.js';
import type { ReleaseWorkflow } from '../workflows/release/index.js';
import { describeSource, initialSearch, searchAttributePairs } from '../workflows/ui.js';

/** Options of `tollgate run`. */
export interface RunOptions {
  config?: string;
  ref?: string;
  /** Release the working tree as it is (a snapshot commit, labelled dirty) instead of refusing uncommitted changes. */
  allowDirty?: boolean;
  /** Another repository than the config's (a URL or path): CI points workers at the remote this way. */
  repository?: string;
  wait?: boolean;
  json?: boolean;
  until?: string;
  by?: string;
  /** Wait for the app's release lane instead of failing when another release is in flight. */
  queue?: boolean;
  /** Promote as soon as the environment before passed (every gate in auto mode): for CI and the demo. */
  autoPromote?: boolean;
  /** KEY=VALUE env for this release's processes in every environment. */
  releaseEnv?: string[];
  /** With --wait: stream each step's output as it runs. */
  verbose?: boolean;
  /** With --wait: end with a per-stage timing breakdown from the workflow history. */
  profile?: boolean;
  /** With --wait: exit 0 once the run waits at a promotion gate, printing how to promote and follow it. */
  untilGate?: boolean;
  /** Poll interval of --wait, in ms. */
  pollMs?: number;
  /** False with --no-cache: every command stage runs, none comes from the stage result cache. */
  cache?: boolean;
}

/** Starts a release; returns the exit code (0 only when --wait saw it succeed, or without --wait once started). */
export async function run(options: RunOptions): Promise<number> {
  for (const [flag, other] of [
    ['verbose', 'watch <run> --verbose'],
    ['profile', 'watch <run> --profile'],
    ['untilGate', 'wait <run> --until-gate'],
  ] as const) {
    if (options[flag] && !options.wait) {
      const name = flag === 'untilGate' ? 'until-gate' : flag;
      throw new ExitError(
        ExitCode.BadInput,
        `--${name} follows the run: add --wait, or use \`tollgate ${other}\``,
      );
    }
  }
  const config = await loadConfigOrExit(options.config);
  const settings = loadSettings();
  const until = parseUntil(config, options.until);
  const source = await resolveSource(config, options);
  const environments = options.autoPromote
    ? config.environments.map((link) => ({
        ...link,
        promotion: { ...link.promotion, mode: 'auto' as const },
      }))
    : config.environments;
  const input: ReleaseInput = {
    schemaVersion: 2,
    app: config.app,
    source,
    runner: settings.runnerOverride ?? config.runner,
    requestedBy: options.by ?? defaultIdentity() ?? 'unknown',
    stages: config.stages,
    environments,
    dependencies: config.dependencies,
    images: config.images,
    ...(config.revenue ? { revenue: config.revenue } : {}),
    ...(until ? { until: until.name } : {}),
    ...(options.releaseEnv?.length ? { releaseEnv: parseReleaseEnv(options.releaseEnv) } : {}),
    notifications: { ...config.notifications, uiUrl: settings.uiUrl },
    ...(settings.buildTaskQueue ? { buildTaskQueue: settings.buildTaskQueue } : {}),
    ...(options.cache === false ? { noCache: true } : {}),
    ...(config.rollbackBrake ? { rollbackBrake: config.rollbackBrake } : {}),
  };
  // Runs that deploy take the app's lane; runs that stop before the first environment run beside them.
  const deploys = (until?.links ?? environments.length) > 0;
  const shown = describeSource(source);

  const { client, connection, namespace } = await connectClient(settings);
  try {
    const workflowId = deploys
      ? laneId(config.app)
      : `check-${config.app}-${source.commit.slice(0, 7)}-${randomUUID().slice(0, 8)}`;
    const handle = await startInLane<ReleaseWorkflow>(
      client,
      'releasePipeline',
      {
        taskQueue: settings.taskQueue,
        workflowId,
        args: [input],
        staticSummary: `Release ${config.app} @ ${shown}${until ? ` until ${until.name}` : ''}`,
        staticDetails: `**app** ${config.app} · **commit** \`${source.commit}\`${source.dirty ? ' (a snapshot of a dirty working tree)' : ''} · **asked for** ${source.revision} · **repository** ${source.repository}${source.subdir ? ` (${source.subdir})` : ''} · **requested by** ${input.requestedBy} · **stages** ${input.stages.map((s) => s.name).join(', ')} · **environments** ${environments.map((l) => l.environment.name).join(' → ') || 'none'}`,
        // TollgateApp, TollgateRevision, TollgateTree, TollgateEnvironment '', TollgateStage, TollgateOutcome 'running' (docs/ui.md).
        typedSearchAttributes: searchAttributePairs(initialSearch(input)),
      },
      options.queue ?? false,
      (holder) => console.error(`Waiting for the release lane, held by ${holder}`),
    );
    const runId = handle.firstExecutionRunId;
    const url = runLink(settings, namespace, workflowId, runId);
    if (!options.json) {
      console.log(
        `Started ${workflowId}: ${config.app} @ ${shown} (${source.revision}${source.tree ? `, tree ${source.tree.slice(0, 12)}` : ''})\n  ${url}`,
      );
      if (source.dirty) {
        console.log(
          `  ⚠ releasing a snapshot of the working tree with ${source.dirty.files.length} uncommitted file(s), labelled dirty`,
        );
      }
    }
    if (!options.wait) {
      if (options.json) {
        printJson('run', {
          workflowId,
          runId,
          url,
          outcome: 'running',
          commit: source.commit,
          tree: source.tree,
        });
      }
      return ExitCode.Ok;
    }
    const view = options.json ? 'quiet' : 'lines';
    const ended = await follow(client, handle, followOptions(settings, settings.taskQueue, view, options));
    reportOutcome('run', ended, { workflowId, runId, url, json: options.json === true });
    return ended.exitCode;
  } finally {
    await connection.close();
  }
}

/** The commit to release: resolved before anything starts; an unknown revision or a dirty tree exits 2. */
async function resolveSource(config: ResolvedConfig, options: RunOptions): Promise<SourceRef> {
  try {
    const location =
      options.repository === undefined
        ? config.location
        : await locateSource(dirname(config.configPath), options.repository, config.raw.source);
    return await resolveRevision(location, {
      ...(options.ref !== undefined ? { ref: options.ref } : {}),
      ...(options.allowDirty ? { allowDirty: true } : {}),
    });
  } catch (error) {
    if (error instanceof SourceError) throw new ExitError(ExitCode.BadInput, error.message);
    throw error;
  }
}

/** KEY=VALUE pairs for --release-env; secrets belong in the environment's secrets, not here. */
function parseReleaseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match)
      throw new ExitError(
        ExitCode.BadInput,
        `--release-env ${pair} is not KEY=VALUE with an upper-case KEY, e.g. --release-env FEATURE_X=on`,
      );
    if (/^(sk|rk)_(live|test)_|^whsec_/.test(match[2]!)) {
      throw new ExitError(
        ExitCode.BadInput,
        `--release-env ${match[1]} holds a secret: list it in the environment's secrets and export it where the worker runs`,
      );
    }
    env[match[1]!] = match[2]!;
  }
  return env;
}

/**
 * `--until`: a stage (with what it needs) or an environment (with the chain before it); `build` means
 * the stage with the artifact. Exit 2 naming the choices for anything else.
 */
function parseUntil(
  config: ResolvedConfig,
  until: string | undefined,
): { name: string; links: number } | undefined {
  if (until === undefined) return undefined;
  const artifact = config.stages.find((s) => s.artifact)?.name;
  const name =
    until === 'build' && artifact && !config.stages.some((s) => s.name === 'build') ? artifact : until;
  const environments = config.environments.map((l) => l.environment.name);
  const scope = scopeUntil(config.stages, environments, name);
  if (!scope) {
    const choices = [...config.stages.map((s) => s.name), ...environments, ...(artifact ? ['build'] : [])];
    throw new ExitError(
      ExitCode.BadInput,
      `--until ${until} is neither a stage nor an environment of ${config.app}: use one of ${choices.join(', ')}`,
    );
  }
  return { name, links: scope.links };
}
