/**
 * The D105 guard. When the Dagger CLI fails to start a session, the SDK (0.21) rejects the caller's
 * connect() *and* leaves a second promise rejected with EngineSessionError (code D105) that nobody
 * awaits. On Node 20 an unhandled rejection kills the process, so one broken engine start would take
 * the whole worker down with every other activity it runs. The guard swallows exactly that error;
 * anything else keeps Node's default behaviour.
 */

const ENGINE_SESSION_ERROR = 'D105';

let installed = false;
let lastFailure: { message: string; at: number } | undefined;

/** Installs the process-wide guard once; later calls are no-ops. */
export function installEngineSessionGuard(): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', onUnhandledRejection);
}

/** The message of the latest swallowed D105 (the CLI's stderr), if it happened within `withinMs`. */
export function recentEngineSessionFailure(withinMs = 5000): string | undefined {
  return lastFailure && Date.now() - lastFailure.at <= withinMs ? lastFailure.message : undefined;
}

/** True for the SDK's EngineSessionError, recognised by its code rather than its class (the SDK is ESM, loaded late). */
export function isEngineSessionError(reason: unknown): boolean {
  return reason instanceof Error && (reason as Error & { code?: unknown }).code === ENGINE_SESSION_ERROR;
}

function onUnhandledRejection(reason: unknown): void {
  if (isEngineSessionError(reason)) {
    const message = (reason as Error).message.trim() || 'the dagger session exited';
    lastFailure = { message, at: Date.now() };
    process.emitWarning(`Dagger engine session failed to start: ${message}`, {
      code: 'TOLLGATE_DAGGER_D105',
    });
    return;
  }
  // Another listener (a test harness, the app) owns the policy for everything else.
  if (process.listenerCount('unhandledRejection') > 1) return;
  // We are the only listener, and adding one disabled Node's default: restore it by rethrowing,
  // which surfaces as an uncaught exception and exits like an unguarded process would.
  throw reason;
}
