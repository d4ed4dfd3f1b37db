/** `tollgate run`: starts the release pipeline for the configured app, and with --wait follows it. */
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { defaultIdentity } from '../approvals/identity.js';
import { loadConfigOrExit } from '../cli/config.js';
import { connectClient, runLink } from '../cli/connect.js';
import { ExitCode, ExitError } from '../cli/exit.js';
import { laneId, startInLane } from '../cli/lane.js';
import { follow, outcomeLine } from '../cli/follow.js';
import { formatProfile, type RunProfile } from '../cli/profile.js';
import { STAGE_NAMES, type StageName } from '../constants.js';
import { loadSettings } from '../settings.js';
import type { ReleaseInput, ReleaseStatus, StageStatus } from '../types.js';
import type { releasePipeline } from '../workflows/deploy.js';
import { initialSearch, searchAttributePairs } from '../workflows/ui.js';

/** Options of `tollgate run`. */
export interface RunOptions {
  config?: string;
  ref?: string;
  wait?: boolean;
  json?: boolean;
  until?: string;
  by?: string;
  /** Wait for the app's release lane instead of failing when another release is in flight. */
  queue?: boolean;
  /** Promote as soon as staging passes (the config's gate in auto mode): for CI and the demo. */
  autoPromote?: boolean;
  /** KEY=VALUE env for this release's processes in every environment. */
  releaseEnv?: string[];
  /** With --wait: stream each step's output as it runs. */
  verbose?: boolean;
  /** With --wait: end with a per-stage timing breakdown from the workflow history. */
  profile?: boolean;
  /** Poll interval of --wait, in ms. */
  pollMs?: number;
}

const UNTIL_ALIASES: Record<string, StageName> = {
  build: 'build-production-image',
  tests: 'test-suite',
  staging: 'smoke-test-staging',
};

/** Starts a release; returns the exit code (0 only when --wait saw it succeed, or without --wait once started). */
export async function run(options: RunOptions): Promise<number> {
  for (const flag of ['verbose', 'profile'] as const) {
    if (options[flag] && !options.wait) {
      throw new ExitError(
        ExitCode.BadInput,
        `--${flag} follows the run: add --wait, or use \`tollgate watch <run> --${flag}\``,
      );
    }
  }
  const config = await loadConfigOrExit(options.config);
  const settings = loadSettings();
  const until = parseUntil(options.until);
  const ref = options.ref ?? process.env.GITHUB_SHA ?? gitRevision(config.sourceDir) ?? 'local';
  const input: ReleaseInput = {
    app: config.app,
    ref,
    sourceDir: config.sourceDir,
    runner: settings.runnerOverride ?? config.runner,
    requestedBy: options.by ?? defaultIdentity() ?? 'unknown',
    stages: config.stages,
    ...(until ? { until } : {}),
    ...(config.delivery
      ? {
          delivery: options.autoPromote
            ? { ...config.delivery, promotion: { ...config.delivery.promotion, mode: 'auto' as const } }
            : config.delivery,
        }
      : {}),
    ...(options.releaseEnv?.length ? { releaseEnv: parseReleaseEnv(options.releaseEnv) } : {}),
    notifications: { ...config.notifications, uiUrl: settings.uiUrl },
    ...(settings.buildTaskQueue ? { buildTaskQueue: settings.buildTaskQueue } : {}),
  };
  // Runs that deploy take the app's lane; checks that stop before staging run beside them.
  const deploys = input.delivery !== undefined && (!until || DELIVERY_STAGES.includes(until));

  const { client, connection, namespace } = await connectClient(settings);
  try {
    const workflowId = deploys
      ? laneId(config.app)
      : `check-${config.app}-${ref.slice(0, 7)}-${randomUUID().slice(0, 8)}`;
    const handle = await startInLane<typeof releasePipeline>(
      client,
      'releasePipeline',
      {
        taskQueue: settings.taskQueue,
        workflowId,
        args: [input],
        staticSummary: `Release ${config.app} @ ${ref.slice(0, 12)}`,
        staticDetails: `**app** ${config.app} · **ref** \`${ref}\` · **requested by** ${input.requestedBy} · **stages** ${input.stages.map((s) => s.name).join(' → ')}`,
        // TollgateApp, TollgateRevision, TollgateEnvironment '', TollgateStage, TollgateOutcome 'running' (docs/ui.md).
        typedSearchAttributes: searchAttributePairs(initialSearch(input)),
      },
      options.queue ?? false,
      (holder) => console.error(`Waiting for the release lane, held by ${holder}`),
    );
    const url = runLink(settings, namespace, workflowId, handle.firstExecutionRunId);
    if (!options.json) {
      console.log(`Started ${workflowId}\n  ${url}`);
    }
    if (!options.wait) {
      if (options.json) console.log(JSON.stringify({ workflowId, runId: handle.firstExecutionRunId, url }));
      return ExitCode.Ok;
    }
    const ended = await follow(client, handle, {
      view: options.json ? 'quiet' : 'lines',
      home: settings.home,
      codecs: settings.dataConverter?.payloadCodecs ?? [],
      ...(options.verbose ? { verbose: true } : {}),
      ...(options.profile ? { profile: true } : {}),
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    });
    const { status, outcome, message, profile } = ended;
    report(options, {
      workflowId,
      url,
      outcome,
      status,
      ...(message ? { message } : {}),
      ...(profile ? { profile } : {}),
    });
    return ended.exitCode;
  } finally {
    await connection.close();
  }
}

/** Appends a markdown table of the stages and the UI link to GitHub's job summary, when there is one. */
function writeStepSummary(summary: {
  workflowId: string;
  url: string;
  outcome: string;
  status: ReleaseStatus | undefined;
  message?: string;
}): void {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (!file || !summary.status) return;
  const seconds = (s: StageStatus): string =>
    s.startedAt && s.endedAt
      ? `${((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s`
      : '–';
  const rows = Object.entries(summary.status.stages).map(
    ([name, s]) => `| ${name} | ${s.state} | ${s.attempts} | ${seconds(s)} |`,
  );
  const lines = [
    `### Tollgate: ${summary.status.app} @ \`${summary.status.ref.slice(0, 12)}\` — ${summary.outcome}`,
    '',
    '| stage | state | attempts | duration |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    ...(summary.message ? [`> ${summary.message.split('\n')[0]}`, ''] : []),
    `[${summary.workflowId} in the Temporal UI](${summary.url})`,
    '',
  ];
  appendFileSync(file, `${lines.join('\n')}\n`);
}

function report(
  options: RunOptions,
  summary: {
    workflowId: string;
    url: string;
    outcome: string;
    status: ReleaseStatus | undefined;
    message?: string;
    profile?: RunProfile;
  },
): void {
  writeStepSummary(summary);
  if (options.json) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }
  console.log(outcomeLine(summary));
  if (summary.profile) for (const line of formatProfile(summary.profile)) console.log(line);
}

const DELIVERY_STAGES: StageName[] = ['deploy-to-staging', 'smoke-test-staging', 'deploy-to-production'];

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

function parseUntil(until: string | undefined): StageName | undefined {
  if (until === undefined) return undefined;
  const name = UNTIL_ALIASES[until] ?? until;
  if (!(STAGE_NAMES as readonly string[]).includes(name)) {
    throw new ExitError(
      ExitCode.BadInput,
      `--until ${until} is not a stage: use one of ${[...Object.keys(UNTIL_ALIASES), ...STAGE_NAMES].join(', ')}`,
    );
  }
  return name as StageName;
}

function gitRevision(dir: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}
