/**
 * The worker's logger: pino JSON lines on stdout (pino-pretty on a terminal), every secret value
 * the worker knows redacted, and the Temporal Runtime's `Logger`, so SDK, Core, workflow and
 * activity lines come out the same way with `runId` and `workflowId` as top-level fields.
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';

/** Levels from quietest to loudest, as TOLLGATE_LOG_LEVEL spells them. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;

/** One of LOG_LEVELS. */
export type Level = (typeof LOG_LEVELS)[number];

/** Options of createLogger. */
export interface LoggerOptions {
  /** Secret values by env var name; each is replaced with `[REDACTED:NAME]` wherever it appears. */
  secrets: Record<string, string>;
  /** Human-readable lines instead of JSON; by default when stdout is a terminal. */
  pretty?: boolean;
  /** Lines below this level are dropped. Default `info`. */
  level?: Level;
  /** Where lines go; stdout by default. */
  destination?: Destination;
}

/** Anything with a write method: a stream, or a test's collector. */
export type Destination = { write(line: string): unknown };

/** A Temporal `Logger` (install it as the Runtime's logger) that also learns secrets as the worker resolves them. */
export interface TollgateLogger extends Logger {
  /** Redacts these values from now on (a stage's secrets, once resolved). */
  addSecrets(values: Record<string, string>): void;
  /** Writes out anything buffered (the Runtime calls it on shutdown). */
  flush(): void;
}

/** Names the worker always treats as secret (notifications, approvals, the payload codec, Temporal Cloud). */
const KNOWN_SECRET_NAMES = [
  'TOLLGATE_WEBHOOK_URL',
  'TOLLGATE_APPROVAL_SECRET',
  'TOLLGATE_ENCRYPTION_KEY',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
];

/** Names that look like they hold a secret: Stripe keys and secrets, *_SECRET, *_TOKEN, *_PASSWORD, *_API_KEY, *_PRIVATE_KEY. */
const SECRET_NAME = /^STRIPE_\w*(KEY|SECRET)$|_(SECRET|SECRET_KEY|TOKEN|PASSWORD|API_KEY|PRIVATE_KEY)$/;

/** Anything shaped like a live Stripe key (src/revenue/live-key-guard.ts), named or not. */
const LIVE_STRIPE_KEY = /\b(?:sk|rk)_live_[0-9A-Za-z]+/g;

/** SDK metadata that is noise or a capability rather than context (a task token can complete the activity). */
const DROPPED_META = new Set(['taskToken', 'workflowRunId', 'run_id', 'workflow_id']);

/** Keys pino writes itself: a metadata field of the same name is renamed rather than duplicated. */
const RESERVED_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

const LOG_TIMESTAMP = Symbol.for('log_timestamp');

/**
 * The secret values in `env`: the names given (a config's `secrets` lists), the known ones, and
 * any whose name looks secret. Values shorter than 4 characters are left out, as in stage logs.
 */
export function secretsFromEnv(env: NodeJS.ProcessEnv, names: string[] = []): Record<string, string> {
  const wanted = new Set([...names, ...KNOWN_SECRET_NAMES]);
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 4 && (wanted.has(name) || SECRET_NAME.test(name))) secrets[name] = value;
  }
  return secrets;
}

/** Replaces secret values (longest first) and live Stripe keys in strings, deep inside objects too. */
export class Redactor {
  private readonly byValue = new Map<string, string>();
  private ordered: [string, string][] = [];

  constructor(secrets: Record<string, string> = {}) {
    this.add(secrets);
  }

  /** Adds secret values by name; values shorter than 4 characters are too common to redact. */
  add(secrets: Record<string, string>): void {
    let changed = false;
    for (const [name, value] of Object.entries(secrets)) {
      if (typeof value === 'string' && value.length >= 4 && !this.byValue.has(value)) {
        this.byValue.set(value, name);
        changed = true;
      }
    }
    // Longest first: a secret that contains a shorter one must not be left half-redacted.
    if (changed) this.ordered = [...this.byValue].sort(([a], [b]) => b.length - a.length);
  }

  /** `text` with every secret value replaced by `[REDACTED:NAME]`. */
  text(text: string): string {
    let out = text;
    for (const [value, name] of this.ordered) {
      if (out.includes(value)) out = out.split(value).join(`[REDACTED:${name}]`);
    }
    return out.replace(LIVE_STRIPE_KEY, '[REDACTED:stripe-live-key]');
  }

  /** A JSON-safe copy of `value` with strings redacted; errors become { name, message, stack, cause, ... }. */
  value(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= 8) return '[Object]';
    if (value instanceof Date) return value.toISOString();
    if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => this.value(item, depth + 1, seen));
      if (value instanceof Error) return this.error(value, depth, seen);
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const clean = this.value(item, depth + 1, seen);
        if (clean !== undefined) out[key] = clean;
      }
      return out;
    } finally {
      seen.delete(value);
    }
  }

  private error(error: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
    const out: Record<string, unknown> = { name: error.name, message: this.text(error.message) };
    // Primitive fields only (a failure's `type`, `nonRetryable`, an exit code), never its raw proto.
    for (const [key, item] of Object.entries(error)) {
      if (key !== 'cause' && item !== null && ['string', 'number', 'boolean'].includes(typeof item)) {
        out[key] = this.value(item, depth + 1, seen);
      }
    }
    if (error.stack) out.stack = this.text(error.stack);
    if (error.cause !== undefined) out.cause = this.value(error.cause, depth + 1, seen);
    return out;
  }
}

/** Creates the logger; the worker installs it as the Temporal Runtime's logger. */
export function createLogger(options: LoggerOptions): TollgateLogger {
  const destination = options.destination ?? process.stdout;
  const terminal = destination === process.stdout && process.stdout.isTTY === true;
  // The SDK's own timestamp is used (Core lines are buffered ~100 ms before they arrive here).
  const base = { level: options.level ?? 'info', timestamp: false } as const;
  const sink =
    (options.pretty ?? terminal)
      ? pino(base, prettyLines(destination, terminal))
      : pino({ ...base, formatters: { level: (label) => ({ level: label }) } }, destinationOf(destination));
  return new PinoTemporalLogger(sink, new Redactor(options.secrets));
}

/** The logger the worker uses: TOLLGATE_LOG_LEVEL (default info), secrets from `env`. */
export function loggerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  secretNames: string[] = [],
): TollgateLogger {
  const level = (env.TOLLGATE_LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(
      `TOLLGATE_LOG_LEVEL=${env.TOLLGATE_LOG_LEVEL} is not a level: use ${LOG_LEVELS.join(', ')}`,
    );
  }
  return createLogger({ secrets: secretsFromEnv(env, secretNames), level: level as Level });
}

/** stdout through pino's synchronous writer (no line lost on exit); other destinations as they are. */
function destinationOf(destination: Destination): pino.DestinationStream {
  return destination === process.stdout
    ? pino.destination({ dest: 1, sync: true })
    : { write: (line) => destination.write(line) };
}

/** One human line per entry, written synchronously (pino-pretty's transport would pipe through streams). */
function prettyLines(destination: Destination, colorize: boolean): pino.DestinationStream {
  const format = prettyFactory({
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,namespace,taskQueue,sdkComponent,isLocal',
  });
  return { write: (line) => destination.write(format(line)) };
}

class PinoTemporalLogger implements TollgateLogger {
  constructor(
    private readonly sink: pino.Logger,
    private readonly redactor: Redactor,
  ) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const method = level.toLowerCase() as Level;
    if (!this.sink.isLevelEnabled(method)) return;
    this.sink[method](this.fields(meta), this.redactor.text(message));
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }

  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }

  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }

  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }

  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  addSecrets(values: Record<string, string>): void {
    this.redactor.add(values);
  }

  flush(): void {
    this.sink.flush();
  }

  /**
   * Time, run and workflow ids first, then the rest redacted. Workflow lines carry `runId`;
   * activity lines carry `workflowRunId`, and Core's `run_id`: all become `runId`.
   */
  private fields(meta: LogMetadata = {}): Record<string, unknown> {
    const nanos: unknown = meta[LOG_TIMESTAMP];
    const time = typeof nanos === 'bigint' ? Number(nanos / 1_000_000n) : Date.now();
    const runId: unknown = meta.runId ?? meta.workflowRunId ?? meta.run_id;
    const workflowId: unknown = meta.workflowId ?? meta.workflow_id;
    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(meta)) {
      if (DROPPED_META.has(key) || key === 'runId' || key === 'workflowId') continue;
      rest[RESERVED_KEYS.has(key) ? `meta_${key}` : key] = value;
    }
    return {
      time,
      ...(runId !== undefined ? { runId: this.redactor.value(runId) } : {}),
      ...(workflowId !== undefined ? { workflowId: this.redactor.value(workflowId) } : {}),
      ...(this.redactor.value(rest) as Record<string, unknown>),
    };
  }
}
