/**
 * Classifies Dagger SDK errors by class code (`.code`) and network cause (`cause.code`), never by
 * message text: messages change between SDK releases, codes are the SDK's documented contract.
 */
import { FailureType } from '../failures.js';

/** What a failed Dagger call means for the stage. */
export interface DaggerFailure {
  type: FailureType;
  exitCode: number | null;
  message: string;
  /** Output the engine attached to the error (an ExecError's stdout and stderr). */
  output?: string;
}

/** The connect() callback never ran: the engine session could not be started or reached. */
export class EngineSessionStartError extends Error {
  override readonly name = 'EngineSessionStartError';
}

/** SDK codes that mean the engine is gone or unreachable: worth a retry on another attempt. */
const ENGINE_CODES: Record<string, string> = {
  D100: 'the engine rejected or failed the request',
  D101: 'the connection to the engine failed',
  D103: 'the engine session printed unreadable connect parameters',
  D104: 'the engine session did not start in time',
  D105: 'the engine session exited',
  D108: 'the engine refused the connection',
};
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/** How to get a CLI, for EngineNotInstalled messages. */
export const INSTALL_HINT =
  'install the Dagger CLI (see the Dagger installation docs) and put `dagger` on PATH, or set ' +
  '_EXPERIMENTAL_DAGGER_CLI_BIN to its path, or run the worker under `dagger run`; or use `runner: host`';

/** Maps an error thrown by a Dagger call to a failure type; undefined when it is not a Dagger error. */
export function classifyDaggerError(error: unknown, retryableExitCodes: number[]): DaggerFailure | undefined {
  const chain = causes(error);
  const exec = chain.find((e) => codeOf(e) === 'D109');
  if (exec) {
    const exitCode = numberField(exec, 'exitCode') ?? null;
    const retryable = exitCode !== null && retryableExitCodes.includes(exitCode);
    const cmd = Array.isArray(exec['cmd']) ? (exec['cmd'] as unknown[]).map(String).join(' ') : 'a step';
    return {
      type: retryable ? FailureType.StepInterrupted : FailureType.StepFailed,
      exitCode,
      message: `\`${cmd}\` exited with ${exitCode ?? 'an unknown code'}${retryable ? ' (retryable by config)' : ''}`,
      output: `${stringField(exec, 'stdout')}${stringField(exec, 'stderr')}`,
    };
  }
  if (chain.some((e) => codeOf(e) === 'D106')) {
    return {
      type: FailureType.EngineNotInstalled,
      exitCode: null,
      message: `cannot get the Dagger CLI: ${INSTALL_HINT}`,
    };
  }
  for (const e of chain) {
    const code = codeOf(e);
    const what = code === undefined ? undefined : ENGINE_CODES[code];
    if (what) return engineUnavailable(`${what} (${code}): ${messageOf(e)}`);
    if (code !== undefined && NETWORK_CODES.has(code))
      return engineUnavailable(`engine connection error ${code}`);
  }
  if (chain.some((e) => e instanceof EngineSessionStartError)) {
    return engineUnavailable(`the engine session did not start: ${messageOf(chain.at(-1))}`);
  }
  return undefined;
}

function engineUnavailable(message: string): DaggerFailure {
  return { type: FailureType.EngineUnavailable, exitCode: null, message };
}

type Fields = Record<string, unknown>;

/** The error and its causes, outermost first (bounded: a cause cycle must not hang the worker). */
function causes(error: unknown): Fields[] {
  const chain: Fields[] = [];
  let current: unknown = error;
  while (
    current !== null &&
    typeof current === 'object' &&
    chain.length < 8 &&
    !chain.includes(current as Fields)
  ) {
    chain.push(current as Fields);
    current = (current as Fields)['cause'];
  }
  return chain;
}

function codeOf(e: Fields): string | undefined {
  const code = e['code'];
  return typeof code === 'string' ? code : undefined;
}

function messageOf(e: Fields | undefined): string {
  const message = e?.['message'];
  return typeof message === 'string' ? message : 'no message';
}

function numberField(e: Fields, key: string): number | undefined {
  const value = e[key];
  return typeof value === 'number' ? value : undefined;
}

function stringField(e: Fields, key: string): string {
  const value = e[key];
  return typeof value === 'string' ? value : '';
}
