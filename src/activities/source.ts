/**
 * Activities that give a run its source: fetch the commit into the worker's mirror, check it out
 * into the run's own workspace (verified, with its dependencies restored), claim the environments'
 * ports, and remove the workspace when the run closes. Stages call `ensureWorkspace` too, so a
 * stage on another worker (a build queue) gets the same commit.
 */
import { Context, log } from '@temporalio/activity';
import { claimPorts, PortConflictError } from '../environments/ports.js';
import { environmentStatus } from '../environments/local/index.js';
import { FailureType, type FailureType as FailureTypeName } from '../failures.js';
import type { Runner } from '../runners/types.js';
import { planDependencies, type DependencyState } from '../source/dependencies.js';
import { SourceError, type SourceProblem } from '../source/errors.js';
import { ensureCommit, headOf } from '../source/mirror.js';
import {
  materializeWorkspace,
  pruneWorkspaces,
  removeWorkspace,
  workspacePath,
  type Workspace,
} from '../source/workspace.js';
import type { DependencyPlan, EnvironmentPlan, RunnerKind, SourceRef } from '../types.js';
import { failure } from './failure.js';

/** What the source activities need from the worker. */
export interface SourceDeps {
  /** Tollgate's state directory: mirrors under git/, workspaces under workspaces/. */
  home: string;
  /** Where installed dependencies are kept across runs (TOLLGATE_CACHE_DIR). */
  cacheDir: string;
  /** The runner a kind resolves to here: the Dagger runner installs in containers, so nothing is restored for it. */
  runnerFor: (kind: RunnerKind) => Promise<Runner>;
}

/** Workspaces left by runs whose close never reached this machine go after this long. */
const STALE_WORKSPACE_MS = 24 * 3_600_000;

const FAILURE_OF: Record<SourceProblem, FailureTypeName> = {
  'unknown-revision': FailureType.CommitNotFound,
  'commit-not-found': FailureType.CommitNotFound,
  dirty: FailureType.InvalidConfig,
  'not-a-repository': FailureType.SourceUnavailable,
  'bad-request': FailureType.InvalidConfig,
  unreachable: FailureType.SourceUnavailable,
  'checkout-mismatch': FailureType.CheckoutMismatch,
};

/** A run's checkout, as the activity that made or found it reports it. */
export interface PreparedSource {
  commit: string;
  tree: string;
  workspace: string;
  /** False when the mirror had the commit already (no network). */
  fetched: boolean;
  /** False when the run's workspace existed already (a retry). */
  checkedOut: boolean;
  dependencies: DependencyState[];
  /** Time spent fetching, checking out and verifying, and restoring dependencies, in ms. */
  timings: { fetchMs: number; checkoutMs: number; restoreMs: number };
}

/** The run's workspace key: one per workflow run. */
export function runKeyOf(ctx: Context = Context.current()): string {
  const run = ctx.info.workflowExecution;
  return run ? `${run.workflowId}-${run.runId}` : `activity-${ctx.info.activityId}`;
}

/** Fetches, checks out and verifies `source.commit` for this run (reused when it is there); restores dependencies. */
export async function ensureWorkspace(
  deps: SourceDeps,
  args: { app: string; source: SourceRef; dependencies: DependencyPlan[]; runner: RunnerKind },
): Promise<Workspace & PreparedSource> {
  const started = performance.now();
  const path = workspacePath(deps.home, args.app, runKeyOf());
  try {
    const { mirror, fetched } = await ensureCommit(deps.home, args.source);
    const fetchedAt = performance.now();
    const workspace = await materializeWorkspace(path, mirror, args.source);
    const checkedOutAt = performance.now();
    if (args.source.tree && args.source.tree !== workspace.tree) {
      throw new SourceError(
        'checkout-mismatch',
        `commit ${args.source.commit} has tree ${workspace.tree} in ${mirror}, but the client read ${args.source.tree}: the mirror is damaged; remove it and retry`,
      );
    }
    // The keys only: the folders come in when a stage runs here (not for stages the cache serves).
    const host = workspace.created && (await deps.runnerFor(args.runner)).kind === 'host';
    const dependencies = host ? planDependencies(workspace, args.dependencies) : [];
    return {
      ...workspace,
      workspace: workspace.root,
      fetched,
      checkedOut: workspace.created,
      dependencies,
      timings: {
        fetchMs: Math.round(fetchedAt - started),
        checkoutMs: Math.round(checkedOutAt - fetchedAt),
        restoreMs: Math.round(performance.now() - checkedOutAt),
      },
    };
  } catch (error) {
    if (error instanceof SourceError) throw failure(FAILURE_OF[error.problem], error.message);
    throw error;
  }
}

/** Builds the source activities. */
export function createSourceActivities(deps: SourceDeps) {
  return {
    /**
     * The run's first step: claims the ports of the environments it will deploy to (before anything
     * is deployed), then fetches and checks out the commit. Failures say where it looked and what to do.
     */
    async prepareSource(args: {
      app: string;
      source: SourceRef;
      dependencies: DependencyPlan[];
      runner: RunnerKind;
      environments: EnvironmentPlan[];
    }): Promise<PreparedSource> {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 5000);
      try {
        await claimPorts(
          deps.home,
          args.environments.map((e) => ({ app: e.app, name: e.name, port: e.port })),
        ).catch((error: unknown) => {
          if (error instanceof PortConflictError)
            throw failure(FailureType.EnvironmentConflict, error.message);
          throw error;
        });
        for (const stale of pruneWorkspaces(deps.home, STALE_WORKSPACE_MS))
          log.info('removed a stale workspace', { path: stale });
        const { root: _root, appDir: _appDir, ...prepared } = await ensureWorkspace(deps, args);
        log.info('source checked out', { commit: prepared.commit, tree: prepared.tree, ...prepared.timings });
        return prepared;
      } finally {
        clearInterval(beat);
      }
    },

    /** Removes this run's workspace (its logs and artifact stay in the run's folder). */
    closeWorkspace(args: { app: string }): Promise<void> {
      removeWorkspace(workspacePath(deps.home, args.app, runKeyOf()));
      return Promise.resolve();
    },

    /** The commit the daily health stage checks: what `environment` serves, else the repository's HEAD. */
    async healthSource(args: {
      source: Pick<SourceRef, 'repository' | 'subdir'>;
      environment?: EnvironmentPlan;
    }): Promise<SourceRef> {
      // Read without starting anything: an environment never deployed to gets no supervisor.
      const status = args.environment
        ? await environmentStatus(deps.home, args.environment).catch(() => undefined)
        : undefined;
      const serving = status?.releases.find((r) => r.releaseId === status.current);
      const base = { repository: args.source.repository, subdir: args.source.subdir, tree: null };
      if (serving && /^[0-9a-f]{40,64}$/.test(serving.ref)) {
        return { ...base, commit: serving.ref, revision: `what ${args.environment!.name} serves` };
      }
      try {
        return { ...base, commit: await headOf(args.source.repository), revision: 'HEAD' };
      } catch (error) {
        if (error instanceof SourceError) throw failure(FAILURE_OF[error.problem], error.message);
        throw error;
      }
    },
  };
}
