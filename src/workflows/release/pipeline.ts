/**
 * The release pipeline, top to bottom: check out the commit, run the stage graph, then take the
 * artifact through each environment of the chain, and park what it replaced. Any failure,
 * cancellation or rollback unwinds the saga newest first (ReleaseRun.failed).
 */
import type { ReleaseInput, ReleaseResult } from '../../types.js';
import { runStages } from './commands.js';
import { deliver } from './delivery.js';
import { ReleaseRun } from './run.js';

/** Takes one commit of an app through its stages and environments; fails with the stage and failure type in its message. */
export async function releaseSchema2(input: ReleaseInput): Promise<ReleaseResult> {
  const run = new ReleaseRun(input);
  try {
    await run.checkBrake();
    await run.prepareSource();
    run.phase('stages');
    const artifact = await runStages(run);
    const links = run.scope.environments;
    if (artifact && links.length > 0) {
      const release = run.built(artifact);
      const imageSmoke = links.findIndex((link) => link.smoke);
      for (const [index, link] of links.entries()) {
        await deliver(run, link, release, { first: index === 0, imageSmoke: index === imageSmoke });
      }
      await run.settle();
    } else if (artifact) {
      run.built(artifact);
    }
  } catch (error) {
    throw await run.failed(error);
  }
  // Outside the try: an audit write that gives up must not undo a release that succeeded.
  return run.succeeded();
}
