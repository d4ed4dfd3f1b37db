/** Picks the runner for a run: `auto` means Dagger when an engine is reachable, else the host. */
import type { RunnerKind } from '../types.js';
import { detectDagger, type DaggerDetection } from './dagger-detect.js';
import { HostRunner } from './host.js';
import type { Runner } from './types.js';

/** Resolves runner kinds to runners, creating each at most once per process. */
export class RunnerSelector {
  readonly detection: DaggerDetection;
  private readonly host = new HostRunner();
  private dagger?: Promise<Runner>;

  constructor(
    private readonly override?: RunnerKind,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.detection = detectDagger(env);
  }

  /** The concrete kind `requested` (or the override) resolves to on this machine. */
  resolve(requested: RunnerKind): 'host' | 'dagger' {
    const kind = this.override ?? requested;
    if (kind === 'auto') return this.detection.available ? 'dagger' : 'host';
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
    return `runner auto → ${this.detection.available ? 'dagger' : 'host'}: ${this.detection.reason}`;
  }
}
