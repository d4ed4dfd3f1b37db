#!/usr/bin/env node
/** The `tollgate` command line: declares the commands, lazily loads each, maps errors to exit codes. */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { EXIT_CODES_HELP, ExitCode, ExitError } from './cli/exit.js';
// Types only: each command's code is imported when that command runs.
import type { DevOptions } from './commands/dev.js';
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
