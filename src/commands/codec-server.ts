/** `tollgate codec-server`: decrypts payloads for the Temporal UI and CLI (Temporal's remote codec protocol). */
import { once } from 'node:events';
import { ExitCode, ExitError } from '../cli/exit.js';
import { encryptionCodecOf, type EncryptionCodec } from '../codec/codec.js';
import { KEY_FILE_VARIABLE, KEY_VARIABLE } from '../codec/keys.js';
import { startCodecServer } from '../codec/server.js';
import { loadSettings } from '../settings.js';

/** Options of `tollgate codec-server`. */
export interface CodecServerOptions {
  port: number;
  host: string;
  /** Allowed CORS origin(s), comma-separated: the Temporal UI's URL. */
  origin: string;
}

/** Serves /encode and /decode with the configured keys until SIGINT or SIGTERM. */
export async function codecServer(options: CodecServerOptions): Promise<number> {
  const codec = requireCodec();
  const { close } = await serveCodec(codec, options);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await close();
  return ExitCode.Ok;
}

/** The configured encryption codec, or exit 2 saying how to configure one. */
export function requireCodec(): EncryptionCodec {
  const codec = encryptionCodecOf(loadSettings().dataConverter);
  if (!codec) {
    throw new ExitError(
      ExitCode.BadInput,
      `the codec server needs the encryption keys: set ${KEY_VARIABLE} (e.g. ${KEY_VARIABLE}="k1:$(openssl rand -base64 32)") or ${KEY_FILE_VARIABLE}, the same as the worker's`,
    );
  }
  return codec;
}

/** Starts the server and prints the one line saying where it listens and which keys it holds. */
export async function serveCodec(
  codec: EncryptionCodec,
  options: CodecServerOptions,
): Promise<{ url: string; close: () => Promise<void> }> {
  const origins = options.origin
    .split(',')
    .map((o) => o.trim().replace(/\/$/, ''))
    .filter(Boolean);
  const started = await startCodecServer({
    codec,
    origins,
    host: options.host,
    port: options.port,
    log: (line) => console.error(line),
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ExitError(
      ExitCode.BadInput,
      code === 'EADDRINUSE'
        ? `${options.host}:${options.port} is in use: pick another --port`
        : `cannot listen on ${options.host}:${options.port}: ${code ?? String(error)}`,
    );
  });
  console.log(
    `codec server listening on ${started.url} (keys ${codec.keyIds.join(', ')}; encrypting with ${codec.encryptingKeyId}; CORS origin ${origins.join(', ')})`,
  );
  if (!['127.0.0.1', 'localhost', '::1'].includes(options.host)) {
    console.warn(
      `warning: ${options.host} is not a loopback address, and the codec server does not authenticate callers: whoever reaches it can decrypt payloads`,
    );
  }
  return started;
}
