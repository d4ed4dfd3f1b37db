/** `tollgate dev`: the Temporal dev server for this machine (SQLite under .tollgate/, UI on 8233), and a codec server for its UI when payloads are encrypted. */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isListening, startDevServer } from '../cli/dev-server.js';
import { ExitCode } from '../cli/exit.js';
import { encryptionCodecOf, type EncryptionCodec } from '../codec/codec.js';
import { loadSettings, recordedUiUrl } from '../settings.js';
import { serveCodec } from './codec-server.js';

/** Options of `tollgate dev`. */
export interface DevOptions {
  port: number;
  uiPort: number;
  detach?: boolean;
  /** Port of the codec server started for the UI when encryption is on and TOLLGATE_CODEC_ENDPOINT is unset. */
  codecPort: number;
}

/** Starts the dev server unless one already listens on the port. */
export async function dev(options: DevOptions): Promise<number> {
  const settings = loadSettings();
  const codec = encryptionCodecOf(settings.dataConverter);
  if (await isListening(options.port)) {
    // The UI it was started with (recorded by the `tollgate dev` that started it), not this call's --ui-port.
    const ui = recordedUiUrl(settings.home, `127.0.0.1:${options.port}`);
    console.log(
      `A Temporal server already listens on 127.0.0.1:${options.port}; ${ui ? `UI at ${ui}` : 'it was not started by `tollgate dev` with this TOLLGATE_HOME, so its UI address is unknown: set TOLLGATE_UI_URL for the links the CLI prints'}`,
    );
    if (codec) {
      console.log(
        'Payloads are encrypted: its UI decodes them only if it was started with a codec endpoint (`tollgate dev` does that), or through the codec endpoint in the UI settings',
      );
    }
    return ExitCode.Ok;
  }
  const codecServer =
    codec && !settings.codecEndpoint ? await codecForUi(codec, options, settings.home) : undefined;
  const codecEndpoint = settings.codecEndpoint ?? codecServer?.endpoint;
  console.log(
    `Starting the Temporal dev server on 127.0.0.1:${options.port} (UI http://localhost:${options.uiPort}, data ${settings.home}/temporal.db${codecEndpoint ? `, UI codec endpoint ${codecEndpoint}` : ''})`,
  );
  try {
    const { pid, logPath } = await startDevServer({
      home: settings.home,
      port: options.port,
      uiPort: options.uiPort,
      detach: options.detach ?? false,
      ...(codecEndpoint ? { codecEndpoint } : {}),
    });
    if (options.detach) console.log(`Running in the background (pid ${pid}, log ${logPath})`);
  } finally {
    await codecServer?.close?.();
  }
  return ExitCode.Ok;
}

/**
 * A codec server for the UI on 127.0.0.1:codecPort: in this process, or with --detach a
 * `tollgate codec-server` process that outlives it. One already listening there is reused.
 */
async function codecForUi(
  codec: EncryptionCodec,
  options: DevOptions,
  home: string,
): Promise<{ endpoint: string; close?: () => Promise<void> }> {
  const endpoint = `http://127.0.0.1:${options.codecPort}`;
  if (await isListening(options.codecPort)) {
    console.log(
      `Using the codec server already listening on ${endpoint} (one left by \`tollgate dev --detach\`?)`,
    );
    return { endpoint };
  }
  const origin = `http://localhost:${options.uiPort},http://127.0.0.1:${options.uiPort}`;
  if (!options.detach) {
    const { close } = await serveCodec(codec, { host: '127.0.0.1', port: options.codecPort, origin });
    return { endpoint, close };
  }
  const cli = fileURLToPath(new URL('../client.js', import.meta.url));
  mkdirSync(home, { recursive: true });
  const logPath = join(home, 'codec-server.log');
  const child = spawn(
    process.execPath,
    [cli, 'codec-server', '--port', String(options.codecPort), '--origin', origin],
    { detached: true, stdio: ['ignore', openSync(logPath, 'a'), openSync(logPath, 'a')] },
  );
  if (child.pid === undefined) throw new Error('could not start the codec server');
  writeFileSync(join(home, 'codec-server.pid'), String(child.pid));
  child.unref();
  const deadline = Date.now() + 15_000;
  while (!(await isListening(options.codecPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the codec server did not start: see ${logPath}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`Codec server for the UI on ${endpoint} (pid ${child.pid}, log ${logPath})`);
  return { endpoint };
}
