/** Compensation for the build: discard the artifact a failed release produced. */
import { rmSync } from 'node:fs';
import { log } from '@temporalio/activity';
import type { ArtifactRef } from '../types.js';

/** The artifact activities. */
export function createArtifactActivities() {
  return {
    /** Deletes a release artifact, its SBOM and its OCI image tarball; a no-op when they are already gone. */
    async discardArtifact(artifact: ArtifactRef): Promise<void> {
      rmSync(artifact.path, { force: true });
      if (artifact.sbomPath) rmSync(artifact.sbomPath, { force: true });
      // A published image stays in its registry: registries have their own retention.
      if (artifact.image) rmSync(artifact.image.path, { force: true });
      log.info('artifact discarded', { path: artifact.path, digest: artifact.digest });
      return Promise.resolve();
    },
  };
}
