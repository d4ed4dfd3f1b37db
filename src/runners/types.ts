/** The contract both runners (host processes, Dagger containers) implement. */
import type { CommandPlan, StageResult } from '../types.js';
import type { CacheHit } from './stage-cache.js';

/** Everything a runner needs for one attempt of one stage, resolved on the worker. */
export interface StageRunContext {
  /** The workflow ID (or a local id for `tollgate stage`): names the run directory. */
  runId: string;
  attempt: number;
  /** Absolute path of the app's source directory. */
  sourceDir: string;
  /** The full SHA of the commit the source is a checkout of (none for schema 1 runs and `tollgate stage`). */
  commit?: string;
  /** Absolute path of this run's directory: logs and artifacts go here. */
  runDir: string;
  /** Secret values by env var name; never logged, always redacted from output. */
  secrets: Record<string, string>;
  /** Aborted on cancellation (activity cancel, worker shutdown, Ctrl-C). */
  signal: AbortSignal;
  /** Called with each new output line (already redacted); activities heartbeat with it. */
  onProgress?: (line: string) => void;
  /** Called with every chunk of output (redacted), for `--verbose` streaming. */
  onOutput?: (chunk: string) => void;
  /**
   * Set when the stage's result may come from the stage result cache: the runner calls it with what
   * it would run the plan with (host toolchain, image digests) before it runs anything, and returns
   * the hit (see servedFromCache) instead of running when there is one.
   */
  reuse?: (identity: Record<string, string>) => Promise<CacheHit | undefined>;
}

/** Runs one stage plan. Throws StageError (src/runners/errors.ts) on failure. */
export interface Runner {
  readonly kind: 'host' | 'dagger';
  runStage(plan: CommandPlan, ctx: StageRunContext): Promise<StageResult>;
}
