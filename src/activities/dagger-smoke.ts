/** The image smoke test: the build's container image as a Dagger service, probed through a service binding. */
import { existsSync } from 'node:fs';
import { CancelledFailure } from '@temporalio/common';
import { Context, log } from '@temporalio/activity';
import { FailureType } from '../failures.js';
import { smokeTestImage as probeImage, type SmokeProbe } from '../runners/dagger-smoke.js';
import { StageError } from '../runners/errors.js';
import type { ImageArtifact } from '../types.js';
import { withDataDir } from './environments.js';
import { failure } from './failure.js';

/** The port the app gets as PORT inside the container unless the input names one. */
export const IMAGE_SMOKE_PORT = 8080;
// `${TOLLGATE_DATA_DIR}` in the release's env points here inside the container: a scratch directory.
const CONTAINER_DATA_DIR = '/tmp/tollgate-data';

/** What smokeTestImage needs: small and serialisable, it is recorded in workflow history. */
export interface ImageSmokeInput {
  /** The build's image (`artifact.image`): its OCI tarball if it is on this worker, else its published ref. */
  image: ImageArtifact;
  /** Paths to GET; each must answer 2xx or 3xx (the environment's health path, then the smoke routes). */
  paths: string[];
  /** The release's plain env (the staging environment's env); no secrets reach the container. */
  env: Record<string, string>;
  /** Port inside the container, given to the app as PORT; default IMAGE_SMOKE_PORT. */
  port?: number;
  /** The probe's image (config `images.probe`); default DEFAULT_IMAGES.probe (runs started before it existed). */
  probeImage?: string;
}

/** What the image smoke test needs from the worker. */
export interface DaggerSmokeDeps {
  /** The Dagger CLI, when detectDagger would not find it. */
  cliBin?: string;
}

/** Builds the image smoke test activity. */
export function createDaggerSmokeActivities(deps: DaggerSmokeDeps = {}) {
  return {
    /** Runs the build's image as a Dagger service and probes each path; SmokeTestFailed names the failed probes. */
    async smokeTestImage(input: ImageSmokeInput): Promise<SmokeProbe[]> {
      const ctx = Context.current();
      const port = input.port ?? IMAGE_SMOKE_PORT;
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      try {
        const probes = await probeImage({
          image: imageSource(input.image),
          port,
          paths: input.paths,
          // HOST: a server that listens on loopback only (the sample app's default) is unreachable through a binding.
          env: { ...withDataDir(input.env, CONTAINER_DATA_DIR), PORT: String(port), HOST: '0.0.0.0' },
          signal: ctx.cancellationSignal,
          ...(input.probeImage ? { curlImage: input.probeImage } : {}),
          ...(deps.cliBin ? { cliBin: deps.cliBin } : {}),
        });
        const failed = probes.filter((probe) => !probe.ok);
        if (failed.length > 0) {
          throw failure(
            FailureType.SmokeTestFailed,
            `smoke-test-staging (image ${input.image.digest.slice(0, 19)}): ${failed.length} of ${probes.length} probes failed: ${failed.map(describeProbe).join('; ')}`,
          );
        }
        log.info('image smoke test passed', { digest: input.image.digest, probes: probes.length });
        return probes;
      } catch (error) {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('image smoke test cancelled');
        if (error instanceof StageError) {
          throw failure(error.type, `smoke-test-staging (image): ${error.message}`);
        }
        throw error;
      } finally {
        clearInterval(beat);
      }
    },
  };
}

/** The local OCI tarball when this worker has it (it built the image), else the published reference. */
function imageSource(image: ImageArtifact): { tarball: string } | { ref: string } {
  if (existsSync(image.path)) return { tarball: image.path };
  if (image.ref) return { ref: image.ref };
  throw failure(
    FailureType.InvalidConfig,
    `smoke-test-staging (image): ${image.path} is not on this worker and the image was not published: run smokeTestImage on the build's task queue, or publish the image (TOLLGATE_IMAGE_REF)`,
  );
}

function describeProbe(probe: SmokeProbe): string {
  return probe.status === null
    ? `${probe.path} (no answer, curl exit ${probe.curlExitCode})`
    : `${probe.path} (HTTP ${probe.status})`;
}
