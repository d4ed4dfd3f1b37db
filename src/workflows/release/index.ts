/**
 * The `releasePipeline` workflow type: schema 2 inputs (a commit, the config's own stages and
 * environments) run the flow in ./pipeline.ts; schema 1 inputs are runs of Tollgate 0.1 in
 * flight or replaying, and go to the frozen code in ../legacy/ (see its README).
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { FailureType } from '../../failures.js';
import type { ReleaseInput, ReleaseResult } from '../../types.js';
import { releasePipelineV1 } from '../legacy/release.js';
import type { ReleaseInput as ReleaseInputV1, ReleaseResult as ReleaseResultV1 } from '../legacy/types.js';
import { isSchema2, SCHEMA_1_REFUSED } from '../schema.js';
import { releaseSchema2 } from './pipeline.js';

/** The workflow as clients start it (schema 2): `client.workflow.start<ReleaseWorkflow>('releasePipeline', ...)`. */
export type ReleaseWorkflow = typeof releaseSchema2;

/** Takes one release of an app through its gates; fails with the stage and failure type in its message. */
export async function releasePipeline(
  input: ReleaseInput | ReleaseInputV1,
): Promise<ReleaseResult | ReleaseResultV1> {
  if (isSchema2(input)) return releaseSchema2(input as ReleaseInput);
  // A schema 1 run that started before the upgrade replays without the marker and goes on as it began;
  // a new one comes from a 0.1 client, which would release the worker's working copy instead of a commit.
  if (patched(SCHEMA_1_REFUSED)) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidConfig,
      message:
        'this run was started by a Tollgate client older than 0.2, which releases whatever lies in the source folder on the worker instead of one commit: upgrade the tollgate package where `tollgate run` runs, then start the release again',
      nonRetryable: true,
    });
  }
  return releasePipelineV1(input as ReleaseInputV1);
}
