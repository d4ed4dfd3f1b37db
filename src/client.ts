#!/usr/bin/env node
/** The `tollgate` command line: declares the commands, lazily loads each, maps errors to exit codes. */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { EXIT_CODES_HELP, ExitCode, ExitError } from './cli/exit.js';
// Types only: each command's code is imported when that command runs.
import type { DecisionOptions } from './cli/decision.js';
import type { DevOptions } from './commands/dev.js';
import type { EnvOptions } from './commands/env.js';
import type { HistoryOptions } from './commands/history.js';
import type { PlansOptions } from './commands/plans.js';
import type { RollbackOptions } from './commands/rollback.js';
import type { RunOptions } from './commands/run.js';
import type { StageOptions } from './commands/stage.js';
import type { StatusOptions } from './commands/status.js';

const program = new Command('tollgate')
  .description('Durable release pipelines for revenue-critical services, on Temporal.')
  .showHelpAfterError()
  // Usage errors exit 2 like every other bad input (commander's own default is 1).
  .exitOverride()
  .addHelpText('after', `\n${EXIT_CODES_HELP}`);

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

program
  .command('run')
  .description('start the release pipeline for the configured app')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .option('--ref <revision>', 'git revision to release (default: $GITHUB_SHA, then git HEAD of the source)')
  .option('--until <stage>', 'stop after this stage (e.g. build, for pull requests)')
  .option('--by <identity>', 'who starts the run (default: $GITHUB_ACTOR, then the OS user)')
  .option('-w, --wait', 'follow the run and exit with its outcome')
  .option('--queue', 'wait for the release lane when another release of the app is in flight')
  .option('--release-env <KEY=VALUE...>', 'env for this release in every environment (repeatable)')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate run --ref $GITHUB_SHA --wait')
  .action(async (options: RunOptions) => exit(await (await import('./commands/run.js')).run(options)));

program
  .command('status <run>')
  .description('show where a release is, stage by stage')
  .option('--json', 'machine-readable output')
  .addHelpText('after', '\nExample:\n  tollgate status release-saas-app-3f2a9c1-1b2c3d4e')
  .action(async (run: string, options: StatusOptions) =>
    exit(await (await import('./commands/status.js')).status(run, options)),
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

program
  .command('promote <run>')
  .description('let a release waiting at the promotion gate into production')
  .requiredOption('--by <name>', "who decides (must be one of the config's approvers)")
  .option('--reason <text>', 'why, for the audit trail')
  .option('--json', 'machine-readable output')
  .addHelpText(
    'after',
    '\nExample:\n  tollgate promote release-saas-app --by alice --reason "staging looks good"',
  )
  .action(async (run: string, options: DecisionOptions) =>
    exit(await (await import('./commands/promote.js')).promote(run, options)),
  );

program
  .command('rollback [run]')
  .description('roll back a running release, or (with --env) an environment after its release finished')
  .option('--env <name>', 'roll this environment back to its previous release')
  .requiredOption('--by <name>', "who decides (must be one of the config's approvers)")
  .option('--reason <text>', 'why, for the audit trail (required with --env)')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .addHelpText(
    'after',
    '\nExamples:\n  tollgate rollback release-saas-app --by alice --reason "checkout errors"\n  tollgate rollback --env production --by alice --reason "revert 3f2a9c1"',
  )
  .action(async (run: string | undefined, options: RollbackOptions) =>
    exit(await (await import('./commands/rollback.js')).rollback(run, options)),
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

const env = program
  .command('env')
  .description('the local environments (staging, production) on this machine');
env
  .command('status [name]')
  .description('proxy, current and previous release, release processes')
  .option('--json', 'machine-readable output')
  .action(async (name: string | undefined, options: EnvOptions) =>
    exit(await (await import('./commands/env.js')).envStatus(name, options)),
  );
env
  .command('stop <name>')
  .description("stop an environment's proxy and releases (state is kept)")
  .action(async (name: string) => exit(await (await import('./commands/env.js')).envStop(name)));

program
  .command('plans')
  .description('print the resolved stage plans as JSON (the Dagger module reads them from dagger/plans.json)')
  .option('-c, --config <file>', 'pipeline config', 'tollgate.config.ts')
  .addHelpText('after', '\nExample:\n  tollgate plans > dagger/plans.json')
  .action(async (options: PlansOptions) => exit(await (await import('./commands/plans.js')).plans(options)));

program
  .command('dev')
  .description('start the Temporal dev server (SQLite under .tollgate/, UI on 8233) unless one is running')
  .option('--port <port>', 'frontend port', integer, 7233)
  .option('--ui-port <port>', 'UI port', integer, 8233)
  .option('-d, --detach', 'run in the background')
  .addHelpText('after', '\nExample:\n  tollgate dev --detach')
  .action(async (options: DevOptions) => exit(await (await import('./commands/dev.js')).dev(options)));

function exit(code: number): void {
  process.exitCode = code;
}

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
  } else if (error instanceof ExitError) {
    console.error(`tollgate: ${error.message}`);
    process.exitCode = error.code;
  } else {
    console.error(error);
    process.exitCode = ExitCode.Failed;
  }
}
