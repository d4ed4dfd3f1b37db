/** `tollgate dev`: the Temporal dev server for this machine (SQLite under .tollgate/, UI on 8233). */
import { isListening, startDevServer } from '../cli/dev-server.js';
import { ExitCode } from '../cli/exit.js';
import { loadSettings } from '../settings.js';

/** Options of `tollgate dev`. */
export interface DevOptions {
  port: number;
  uiPort: number;
  detach?: boolean;
}

/** Starts the dev server unless one already listens on the port. */
export async function dev(options: DevOptions): Promise<number> {
  const settings = loadSettings();
  if (await isListening(options.port)) {
    console.log(
      `A Temporal server already listens on 127.0.0.1:${options.port}; UI at http://localhost:${options.uiPort}`,
    );
    return ExitCode.Ok;
  }
  console.log(
    `Starting the Temporal dev server on 127.0.0.1:${options.port} (UI http://localhost:${options.uiPort}, data ${settings.home}/temporal.db)`,
  );
  const { pid, logPath } = await startDevServer({
    home: settings.home,
    port: options.port,
    uiPort: options.uiPort,
    detach: options.detach ?? false,
  });
  if (options.detach) console.log(`Running in the background (pid ${pid}, log ${logPath})`);
  return ExitCode.Ok;
}
