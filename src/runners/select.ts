/** Picks the runner for a run: `auto` means Dagger when an engine answers, else the host. */
import type { RunnerKind } from '../types.js';
import { detectDagger, type DaggerDetection } from './dagger-detect.js';
import { askEngine, type EngineAnswer, type EngineSource } from './dagger-session.js';
import { HostRunner } from './host.js';
import type { Runner } from './types.js';

/** How long `auto` waits for an engine to answer before it picks the host runner. */
export const ENGINE_PROBE_TIMEOUT_MS = 20_000;

/** Resolves runner kinds to runners, creating each at most once per process. */
export class RunnerSelector {
  readonly detection: DaggerDetection;
  /** The engine's answer when asked (see detect); without one, `auto` never picks Dagger. */
  answer?: EngineAnswer;
  private readonly host = new HostRunner();
  private dagger?: Promise<Runner>;

  constructor(
    private readonly override?: RunnerKind,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.detection = detectDagger(env);
  }

  /**
   * A selector that has asked the engine (when there is one to ask) whether it answers: a CLI on
   * PATH and a container runtime are not an engine that starts. Only `auto` needs the answer.
   */
  static async detect(
    override?: RunnerKind,
    env: NodeJS.ProcessEnv = process.env,
    timeoutMs = ENGINE_PROBE_TIMEOUT_MS,
  ): Promise<RunnerSelector> {
    const selector = new RunnerSelector(override, env);
    const source = engineSource(selector.detection, env);
    if (source && (override === undefined || override === 'auto' || override === 'dagger')) {
      selector.answer = await askEngine(source, timeoutMs);
    }
    return selector;
  }

  /** The concrete kind `requested` (or the override) resolves to on this machine. */
  resolve(requested: RunnerKind): 'host' | 'dagger' {
    const kind = this.override ?? requested;
    if (kind === 'auto') return this.detection.available && this.answer?.ok ? 'dagger' : 'host';
    return kind;
  }

  /** The runner for a requested kind. */
  runnerFor = (requested: RunnerKind): Promise<Runner> => {
    if (this.resolve(requested) === 'host') return Promise.resolve(this.host);
    // Loaded only when chosen: the Dagger SDK is never imported on a host-only machine.
    this.dagger ??= import('./dagger.js').then(({ DaggerRunner }) =>
      this.detection.cliBin ? new DaggerRunner({ cliBin: this.detection.cliBin }) : new DaggerRunner(),
    );
    return this.dagger;
  };

  /** One line for logs and `tollgate doctor`: what `auto` picks here, and why. */
  describe(): string {
    const picked = this.resolve('auto');
    const asked = this.answer
      ? `; ${this.answer.detail} (${(this.answer.ms / 1000).toFixed(1)}s)`
      : this.detection.available
        ? '; the engine was not asked'
        : '';
    return `runner auto → ${picked}: ${this.detection.reason}${asked}`;
  }
}

/** Where to ask: the running session, or the CLI that would start one; undefined when neither. */
function engineSource(detection: DaggerDetection, env: NodeJS.ProcessEnv): EngineSource | undefined {
  if (!detection.available) return undefined;
  const port = env['DAGGER_SESSION_PORT'];
  const token = env['DAGGER_SESSION_TOKEN'];
  if (port && token) return { session: { port, token } };
  return detection.cliBin ? { cliBin: detection.cliBin } : undefined;
}
