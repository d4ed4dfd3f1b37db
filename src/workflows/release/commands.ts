/**
 * The command stages as a graph: each starts once every stage it needs has succeeded, so stages
 * that do not need each other run at once; the first failure cancels the running ones (their
 * processes are stopped) and is rethrown once all have settled, so compensation never races a
 * running stage.
 */
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { startOrder } from '../../config/graph.js';
import type { ArtifactRef, StageResult } from '../../types.js';
import type { ReleaseRun } from './run.js';

/** Runs the run's stages; returns the artifact of the stage that has one, when it ran. */
export async function runStages(run: ReleaseRun): Promise<ArtifactRef | undefined> {
  const results = new Map<string, Promise<StageResult>>();
  await CancellationScope.cancellable(async () => {
    const scope = CancellationScope.current();
    let first: unknown;
    // In start order, so a stage's needs already have their promises; ties start in config order.
    for (const plan of startOrder(run.scope.stages)) {
      const needs = plan.needs.map((name) => results.get(name)!);
      const result = Promise.all(needs).then(() => run.command(plan));
      results.set(plan.name, result);
      result.catch((error: unknown) => {
        if (first === undefined && !isCancellation(error)) {
          first = error;
          scope.cancel();
        }
      });
    }
    await Promise.allSettled(results.values());
    if (first !== undefined) throw first as Error;
    // Cancelled from outside (the run itself): the cancellation is the outcome.
    for (const result of results.values()) await result;
  });
  const artifactStage = run.scope.stages.find((s) => s.artifact);
  return artifactStage ? (await results.get(artifactStage.name))?.artifact : undefined;
}
