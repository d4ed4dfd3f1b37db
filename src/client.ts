#!/usr/bin/env node
/** The `tollgate` command line: declares the commands, lazily loads each, maps errors to exit codes. */
import { inspect } from 'node:util';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ApproverKeyError } from './approvals/keys.js';
import { EXIT_CODES_HELP, ExitCode, ExitError } from './cli/exit.js';
import { EncryptionKeyError } from './codec/keys.js';
import { maskSecretLike } from './mask.js';
import { SettingsError } from './settings.js';
// Types only: each command's code is imported when that command runs.
import type { DecisionOptions } from './cli/decision.js';
import type { CodecServerOptions } from './commands/codec-server.js';
import type { DevOptions } from './commands/dev.js';
import type { DoctorOptions } from './commands/doctor.js';
import type { EnvLogsOptions, EnvOptions } from './commands/env.js';
import type { HealthOptions } from './commands/health.js';
import type { HistoryOptions } from './commands/history.js';
import type { InitOptions } from './commands/init.js';
import type { KeysNewOptions, KeysShowOptions } from './commands/keys.js';
import type { NamespaceOptions } from './commands/namespace.js';
import type { PlansOptions } from './commands/plans.js';
import type { LaneUnlockOptions } from './commands/lane.js';
import type { RollbackOptions } from './commands/rollback.js';
import type { StatsOptions } from './commands/stats.js';
import type { RunOptions } from './commands/run.js';
import type { ScheduleOptions } from './commands/schedule.js';
import type { StageOptions } from './commands/stage.js';
import type { StatusOptions } from './commands/status.js';
import type { WaitOptions } from './commands/wait.js';
import type { WatchOptions } from './commands/watch.js';

const program = new Command('tollgate')
  .description('Durable release pipelines for revenue-critical services, on Temporal.')
  .showHelpAfterError()
  // Usage errors exit 2 like every other bad input (commander's own default is 1).
  .exitOverride()
  .addHelpText(
    'after',
    `\nExamples:\n  tollgate run --wait\n  tollgate watch release-saas-app\n  tollgate promote release-saas-app --by alice\n\n${EXIT_CODES_HELP}`,
  );

const VERBOSE_HELP = `--verbose: when this machine can read the run's logs (the worker shares TOLLGATE_HOME, as with
a local worker), every line of each stage log under $TOLLGATE_HOME/runs/<run>/ is streamed as it
is written; otherwise the latest output line of each running stage, from its heartbeats (sampled:
the worker reports one about every 8 s, 80% of the stage's heartbeat timeout).`;

const PROFILE_HELP = `--profile: read from the workflow history once the run closes. Per stage: queue wait (activity
scheduled to started, first attempts), retrying (scheduled to the last attempt's start for retried
stages: earlier attempts and backoff), run time (the last attempt), retries (attempts - 1); and totals.`;

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

program
  .command('run')
  .description('start the release pipeline for the configured app')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option(
    '--ref <revision>',
    'the commit to release: a branch, tag or SHA, resolved to the full SHA before anything starts (default: $GITHUB_SHA, then HEAD)',
  )
  .option(
    '--allow-dirty',
    'release the working tree with its uncommitted changes, as a snapshot commit labelled dirty',
  )
  .option(
    '--repository <url|path>',
    "fetch the release from this repository instead of the config's (CI: the remote)",
  )
  .option(
    '--until <stage|environment>',
    'stop after this stage (with what it needs) or environment; build = the artifact stage',
  )
  .option('--by <identity>', 'who starts the run (default: $GITHUB_ACTOR, then the OS user)')
  .option('-w, --wait', 'follow the run and exit with its outcome')
  .option('--queue', 'wait for the release lane when another release of the app is in flight')
  .option('--auto-promote', 'every gate of the chain promotes at once (auto mode; audited)')
  .option('--release-env <KEY=VALUE...>', 'env for this release in every environment (repeatable)')
  .option(
    '--no-cache',
    'run every command stage, even one whose passed result the stage result cache holds (see below)',
  )
  .option('-v, --verbose', "with --wait: stream each step's output as it runs (see below)")
  .option('--profile', 'with --wait: end with queue wait, run time and retries per stage')
  .option(
    '--until-gate',
    'with --wait: exit 0 once the run waits at a promotion gate, printing the promote and wait commands',
  )
  .option('--json', 'machine-readable output (one object at the end; --verbose output goes to stderr)')
  .addHelpText(
    'after',
    `\nA release is one commit of one repository: the worker fetches exactly that commit and checks it out
for the run; stages never work in your working copy. With uncommitted changes in the app's folder,
releasing HEAD is refused (listing the files) unless --allow-dirty.

A command stage that passed before with the same tree, plan (steps, env, secret names), runner and
toolchain or image digests is not run again: its result comes from the stage result cache under
$TOLLGATE_HOME/stage-cache, marked "cached" with the run it came from. Deploys, smoke tests, gates and
verification always run. --no-cache (or cache: false on a stage) runs them anyway.

${VERBOSE_HELP}\n\n${PROFILE_HELP}\n\nExamples:\n  tollgate run --ref $GITHUB_SHA --wait\n  tollgate run --until build --wait\n  tollgate run --wait --verbose --profile\n  tollgate run --wait --until-gate   # CI: end the job at the gate, promote later`,
  )
  .action(async (options: RunOptions) => exit(await (await import('./commands/run.js')).run(options)));

program
  .command('init')
  .description(
    'write a commented tollgate.config.ts for the app in this folder (Node, Python or Go), from what it finds',
  )
  .option('--dir <dir>', "the app's folder (default: here)")
  .option('--app <name>', "the app's name (default: from package.json, pyproject.toml, go.mod or the folder)")
  .option('--print', 'print the config instead of writing it')
  .addHelpText('after', '\nRefuses to overwrite an existing config.\n\nExample:\n  npx tollgate init')
  .action(async (options: InitOptions) => exit(await (await import('./commands/init.js')).init(options)));

program
  .command('worker')
  .description('run a worker: it polls the task queue, runs the stages and deploys (until SIGINT/SIGTERM)')
  .addHelpText(
    'after',
    '\nSettings come from the environment (TEMPORAL_ADDRESS, TOLLGATE_HOME, TOLLGATE_WORKER_QUEUES, ...; see the README).\n\nExample:\n  npx tollgate worker',
  )
  .action(async () => exit(await (await import('./worker.js')).runWorkers()));

program
  .command('status <run>')
  .description('show where a release is, stage by stage')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate status release-saas-app-3f2a9c1-1b2c3d4e')
  .action(async (run: string, options: StatusOptions) =>
    exit(await (await import('./commands/status.js')).status(run, options)),
  );

program
  .command('watch <run>')
  .description('follow a release live: stages, attempts, durations, the gate, verification signals')
  .option('-v, --verbose', "stream each step's output as it runs (see below)")
  .option('--profile', 'end with queue wait, run time and retries per stage')
  .option('--json', 'one JSON object per change (NDJSON), then an "end" object')
  .addHelpText(
    'after',
    `
On a terminal the view is redrawn in place; otherwise (a pipe, CI) it prints one line per
change. Exits when the run closes, with the run's outcome: 0 succeeded, 1 failed or rolled
back, 4 cancelled.

${VERBOSE_HELP}

${PROFILE_HELP}

Examples:
  tollgate watch release-saas-app
  tollgate watch release-saas-app --verbose --profile
  tollgate watch release-saas-app --json | jq -c 'select(.event == "sample")'`,
  )
  .action(async (run: string, options: WatchOptions) =>
    exit(await (await import('./commands/watch.js')).watch(run, options)),
  );

program
  .command('wait <run>')
  .description('follow a running release to its end (CI: one line per change) and exit with its outcome')
  .option('--until-gate', 'exit 0 once the run waits at a promotion gate (at once if it waits there now)')
  .option('-v, --verbose', "stream each step's output as it runs")
  .option('--json', 'one JSON object at the end (with workflowId, runId, outcome, status)')
  .addHelpText(
    'after',
    `
Prints one line per change, never redrawn (for CI logs; \`watch\` redraws on a terminal), and says on
stderr when no worker polls the run's task queue. Exits with the run's outcome: 0 succeeded (or,
with --until-gate, waiting at a gate), 1 failed or rolled back, 4 cancelled. Under GitHub Actions
each stage's lines are grouped, a failed stage is annotated and the job summary links the run.

Examples:
  tollgate run --wait --until-gate && tollgate wait release-saas-app
  tollgate wait release-saas-app --json`,
  )
  .action(async (run: string, options: WaitOptions) =>
    exit(await (await import('./commands/wait.js')).wait(run, options)),
  );

program
  .command('stage <name>')
  .description('run one stage on this machine, without a Temporal server')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('-q, --quiet', 'do not stream the stage output')
  .addHelpText('after', '\nExample:\n  tollgate stage test-suite')
  .action(async (name: string, options: StageOptions) =>
    exit(await (await import('./commands/stage.js')).stage(name, options)),
  );

const BY_HELP =
  "who decides; must be one of the config's approvers (default: with CI set, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $BUILDKITE_BUILD_CREATOR; otherwise the OS user)";

const SIGNING_HELP = `With TOLLGATE_APPROVER_KEY set here (your private key file, from \`tollgate keys new\`), the decision
is signed with it (Ed25519 over the run, action, identity, reason and time). A worker with
TOLLGATE_APPROVER_KEYS accepts only decisions signed with the key of the approver named by --by, at
most 5 minutes old; a signed \`rollback --env\` request works once. See docs/approvals.md.`;

program
  .command('promote <run>')
  .description('let a release waiting at the promotion gate into production')
  .option('--by <name>', BY_HELP)
  .option('--reason <text>', 'why, for the audit trail')
  .option('--json', 'machine-readable output')
  .addHelpText(
    'after',
    `\n${SIGNING_HELP}\n\nExample:\n  tollgate promote release-saas-app --by alice --reason "staging looks good"`,
  )
  .action(async (run: string, options: DecisionOptions) =>
    exit(await (await import('./commands/promote.js')).promote(run, options)),
  );

program
  .command('rollback [run]')
  .description('roll back a running release, or (with --env) an environment after its release finished')
  .option('--env <name>', 'roll this environment back to its previous release')
  .option('--by <name>', BY_HELP)
  .option('--reason <text>', 'why, for the audit trail (required with --env)')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('--json', 'machine-readable output (docs/cli-json.md)')
  .addHelpText(
    'after',
    `\n${SIGNING_HELP}\n\nExamples:\n  tollgate rollback release-saas-app --by alice --reason "checkout errors"\n  tollgate rollback --env production --by alice --reason "revert 3f2a9c1"`,
  )
  .action(async (run: string | undefined, options: RollbackOptions) =>
    exit(await (await import('./commands/rollback.js')).rollback(run, options)),
  );

program
  .command('lane')
  .description("the app's release lane")
  .command('unlock [app]')
  .description('clear the rollback brake: after too many automatic rollbacks the lane refuses releases')
  .option('--by <name>', BY_HELP)
  .option('--reason <text>', 'why, for the audit trail (required)')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .addHelpText(
    'after',
    '\nThe brake is rollbackBrake in the config (default: 3 automatic rollbacks within 24 h).\n\nExample:\n  tollgate lane unlock saas-app --by alice --reason "fixed the checkout regression in 3f2a9c1"',
  )
  .action(async (app: string | undefined, options: LaneUnlockOptions) =>
    exit(await (await import('./commands/lane.js')).unlockLane(app, options)),
  );

const keys = program
  .command('keys')
  .description(
    "approvers' signing keys (Ed25519): make a key pair, print the entry for the worker's keys file",
  )
  .addHelpText(
    'after',
    `
Each approver signs with a private key of their own (TOLLGATE_APPROVER_KEY where they run
tollgate); the worker holds every approver's public key in the JSON file TOLLGATE_APPROVER_KEYS
names: {"alice": "<base64 SPKI>", "bob": "<base64 SPKI>"}. See docs/approvals.md.

Examples:
  tollgate keys new --approver alice --out ~/.tollgate
  tollgate keys show ~/.tollgate/alice.key --json`,
  );
keys
  .command('new')
  .description('write <approver>.key (mode 0600, never over an existing file) and print its public entry')
  .requiredOption('--approver <name>', 'whose key it is: the name they decide as (--by)')
  .option('--out <dir>', 'the folder to write <approver>.key in (created if missing)', '.')
  .option('--json', 'print only the entry, as a JSON object')
  .addHelpText('after', '\nExample:\n  tollgate keys new --approver alice --out ~/.tollgate')
  .action(async (options: KeysNewOptions) =>
    exit(await (await import('./commands/keys.js')).keysNew(options)),
  );
keys
  .command('show <keyfile>')
  .description("print the worker's keys-file entry for a key (a private key file, or a public key PEM)")
  .option('--approver <name>', 'the approver it is for (default: the file name without .key)')
  .option('--json', 'print only the entry, as a JSON object')
  .addHelpText('after', '\nExample:\n  tollgate keys show ~/.tollgate/alice.key')
  .action(async (keyfile: string, options: KeysShowOptions) =>
    exit(await (await import('./commands/keys.js')).keysShow(keyfile, options)),
  );

program
  .command('history')
  .description('recent releases: outcome, who promoted them, duration')
  .option('-n, --limit <count>', 'how many', integer, 20)
  .option('--app <name>', 'only this app')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate history --app saas-app -n 10')
  .action(async (options: HistoryOptions) =>
    exit(await (await import('./commands/history.js')).history(options)),
  );

program
  .command('stats')
  .description('pipeline metrics over a window: DORA keys, success rate, stage p50/p95')
  .option('--since <duration>', 'window back from now (or from --to): 7d, 24h, 2w (default 7d)')
  .option('--from <iso>', 'window start (ISO date or time, UTC when no offset)')
  .option('--to <iso>', 'window end, exclusive (default now)')
  .option('--app <name>', 'only this app')
  .option('--json', 'machine-readable output')
  .option('--html <file>', 'also write a self-contained HTML report with charts')
  .addHelpText(
    'after',
    `
Runs count when they started in the window (from inclusive, to exclusive); runs still in
flight are counted as such but enter no figure. p50 is the median (the mean of the two middle
values for an even count); p95 is the nearest rank, the ceil(0.95 n)-th smallest value.
  success rate            succeeded runs / finished runs (succeeded, failed, rolled back, cancelled;
                          terminated and timed-out runs count as cancelled)
  deployment frequency    production deployments / days in the window; "production" is the last
                          environment of the run's chain, and a production deployment is a
                          succeeded run whose deploy-to-<that environment> succeeded
  lead time for changes   per production deployment: the end of its deploy minus the commit's
                          time (git log -1 --format=%cI <commit> in the repository, or the
                          worker's mirror of it under TOLLGATE_HOME, read when stats runs); the
                          run's start time when the commit is not there (the output names those)
  change failure rate     runs whose production deploy succeeded but that did not succeed, over
                          runs whose production deploy succeeded; split by cause: breach
                          (verification), operator (accepted rollback), other (failed or
                          cancelled after the switch)
  time to restore         for breach and operator rollbacks whose production switch back
                          succeeded: from the breaching verification sample's time (else the
                          auto-rollback audit entry) or the operator's accepted rollback, to the
                          run's final audit entry, written once the compensations (the last
                          environment first) are done
  stage p50 / p95         endedAt - startedAt of stages that succeeded or failed, retries included
  seed figures            pipeline success rate = success rate; average pipeline time = mean of
                          close - start over finished runs; deployment frequency as above

Examples:
  tollgate stats --app saas-app
  tollgate stats --from 2025-01-01 --to 2025-02-01 --json
  tollgate stats --since 30d --html stats.html`,
  )
  .action(async (options: StatsOptions) => exit(await (await import('./commands/stats.js')).stats(options)));

const env = program
  .command('env')
  .description('the local environments on this machine, per app')
  .addHelpText('after', '\nExamples:\n  tollgate env status\n  tollgate env stop staging --app saas-app');
env
  .command('status [name]')
  .option('--app <name>', "only this app's (default: the app of ./tollgate.config.ts, else every app)")
  .description('proxy, current and previous release, release processes')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExamples:\n  tollgate env status\n  tollgate env status production --json')
  .action(async (name: string | undefined, options: EnvOptions) =>
    exit(await (await import('./commands/env.js')).envStatus(name, options)),
  );
env
  .command('stop <name>')
  .option('--app <name>', 'the app whose environment it is (default: the app of ./tollgate.config.ts)')
  .description("stop an environment's proxy and releases (state is kept)")
  .addHelpText('after', '\nExample:\n  tollgate env stop staging')
  .action(async (name: string, options: EnvOptions) =>
    exit(await (await import('./commands/env.js')).envStop(name, options)),
  );

env
  .command('logs <name>')
  .option('--app <name>', 'the app whose environment it is (default: the app of ./tollgate.config.ts)')
  .option('--release <id>', 'this release (default: the one serving)')
  .option('--bytes <n>', 'how much of the end of the log', (v) => Number(v), 4096)
  .option('--json', 'machine-readable output (releaseId and tail)')
  .description("the last output of an environment's release: its log file, or its container's logs")
  .addHelpText(
    'after',
    '\nExamples:\n  tollgate env logs production\n  tollgate env logs production --json\n  tollgate env logs staging --release saas-app-1a2b3c4d5e6f-0123abcd',
  )
  .action(async (name: string, options: EnvLogsOptions) =>
    exit(await (await import('./commands/env.js')).envLogs(name, options)),
  );

program
  .command('health')
  .description('run the daily health checks now (health stage, environments, Stripe key, revenue freshness)')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('-w, --wait', 'wait for the report; exit 1 when a check failed')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate health --wait')
  .action(async (options: HealthOptions) =>
    exit(await (await import('./commands/health.js')).health(options)),
  );

const schedule = program
  .command('schedule')
  .description(
    "the daily health schedule (Temporal Schedule tollgate-daily-health-<app>, the config's health.schedule)",
  )
  .addHelpText('after', '\nExamples:\n  tollgate schedule apply\n  tollgate schedule status');
schedule
  .command('apply')
  .description('create the schedule, or update it to the config (idempotent; keeps a pause)')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate schedule apply')
  .action(async (options: ScheduleOptions) =>
    exit(await (await import('./commands/schedule.js')).scheduleApply(options)),
  );
schedule
  .command('status')
  .description('spec, paused or not, next run times, recent runs')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate schedule status --json')
  .action(async (options: ScheduleOptions) =>
    exit(await (await import('./commands/schedule.js')).scheduleStatus(options)),
  );
schedule
  .command('trigger')
  .description('start a run now through the schedule')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('-w, --wait', 'wait for the report; exit 1 when a check failed')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate schedule trigger --wait')
  .action(async (options: ScheduleOptions) =>
    exit(await (await import('./commands/schedule.js')).scheduleTrigger(options)),
  );
schedule
  .command('pause')
  .description('stop scheduled runs until unpause')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('--reason <text>', 'why (shown as the schedule note)')
  .addHelpText('after', '\nExample:\n  tollgate schedule pause --reason "staging rebuild until Monday"')
  .action(async (options: ScheduleOptions) =>
    exit(await (await import('./commands/schedule.js')).schedulePause(options)),
  );
schedule
  .command('unpause')
  .description('resume scheduled runs')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('--reason <text>', 'why (shown as the schedule note)')
  .addHelpText('after', '\nExample:\n  tollgate schedule unpause --reason "staging is back"')
  .action(async (options: ScheduleOptions) =>
    exit(await (await import('./commands/schedule.js')).scheduleUnpause(options)),
  );
schedule
  .command('delete')
  .description('delete the schedule (runs already started are not affected)')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .addHelpText('after', '\nExample:\n  tollgate schedule delete -c tollgate.config.ts')
  .action(async (options: ScheduleOptions) =>
    exit(await (await import('./commands/schedule.js')).scheduleDelete(options)),
  );

program
  .command('plans')
  .description('print the resolved stage plans as JSON (the Dagger module reads them from dagger/plans.json)')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .addHelpText('after', '\nExample:\n  tollgate plans > dagger/plans.json')
  .action(async (options: PlansOptions) => exit(await (await import('./commands/plans.js')).plans(options)));

program
  .command('namespace')
  .description(
    "register TEMPORAL_NAMESPACE (default: default) and Tollgate's search attributes on a self-hosted server, where missing",
  )
  .option(
    '--retention-days <days>',
    'how long closed runs are kept, for a namespace this registers',
    integer,
    7,
  )
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=temporal.internal:7233 tollgate namespace')
  .action(async (options: NamespaceOptions) =>
    exit(await (await import('./commands/namespace.js')).namespace(options)),
  );

program
  .command('doctor')
  .description('check this machine: config, which runner auto picks and why, tools, the Temporal server')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate doctor')
  .action(async (options: DoctorOptions) =>
    exit(await (await import('./commands/doctor.js')).doctor(options)),
  );

program
  .command('dev')
  .description('start the Temporal dev server (SQLite under .tollgate/, UI on 8233) unless one is running')
  .option('--port <port>', 'frontend port', integer, 7233)
  .option('--ui-port <port>', 'UI port', integer, 8233)
  .option('-d, --detach', 'run in the background')
  .option(
    '--codec-port <port>',
    'port of the codec server started for the UI when encryption is on',
    integer,
    8081,
  )
  .addHelpText(
    'after',
    `
With TOLLGATE_ENCRYPTION_KEY (or TOLLGATE_ENCRYPTION_KEY_FILE) set, the UI decodes payloads through
a codec server: TOLLGATE_CODEC_ENDPOINT when set, otherwise one started on 127.0.0.1:--codec-port
(in the background too with --detach; its pid in $TOLLGATE_HOME/codec-server.pid).

Example:
  tollgate dev --detach`,
  )
  .action(async (options: DevOptions) => exit(await (await import('./commands/dev.js')).dev(options)));

program
  .command('codec-server')
  .description(
    'decrypt payloads for the Temporal UI and CLI (the remote codec protocol: POST /encode, /decode)',
  )
  .option('--port <port>', 'port to listen on', integer, 8081)
  .option(
    '--host <address>',
    'address to listen on (it does not authenticate callers: keep it local)',
    '127.0.0.1',
  )
  .option(
    '--origin <url>',
    "CORS origin allowed to call it: the Temporal UI's URL (comma-separate several)",
    'http://localhost:8233',
  )
  .addHelpText(
    'after',
    `
Uses the keys the worker uses: TOLLGATE_ENCRYPTION_KEY="k2:<base64 32 bytes>,k1:<base64 32 bytes>"
(the first encrypts, all decrypt; make one with \`openssl rand -base64 32\`) or
TOLLGATE_ENCRYPTION_KEY_FILE. Point the UI at it: \`temporal server start-dev --ui-codec-endpoint
http://127.0.0.1:8081\` (\`tollgate dev\` does this), or the codec endpoint in the UI's settings;
the CLI: \`temporal workflow show --codec-endpoint http://127.0.0.1:8081 -w <run>\`.

Example:
  tollgate codec-server --port 8081 --origin http://localhost:8233`,
  )
  .action(async (options: CodecServerOptions) =>
    exit(await (await import('./commands/codec-server.js')).codecServer(options)),
  );

function exit(code: number): void {
  process.exitCode = code;
}

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
  } else if (error instanceof ExitError) {
    console.error(`tollgate: ${maskSecretLike(error.message)}`);
    process.exitCode = error.code;
  } else if (
    error instanceof EncryptionKeyError ||
    error instanceof SettingsError ||
    error instanceof ApproverKeyError
  ) {
    // Settings and key files, read before anything is sent: bad input, one line, no stack.
    console.error(`tollgate: ${maskSecretLike(error.message)}`);
    process.exitCode = ExitCode.BadInput;
  } else {
    console.error(maskSecretLike(inspect(error)));
    process.exitCode = ExitCode.Failed;
  }
}
