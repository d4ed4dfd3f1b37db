/**
 * The image a release runs: the one its build published (pulled by digest), or, for a host build,
 * one built here from the release tarball on the configured base image. Either way the container
 * is created from an image id or digest, never a tag that could move.
 */
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { FailureType } from '../../failures.js';
import type { ArtifactRef } from '../../types.js';
import { LocalEnvironmentError } from '../local/errors.js';
import { unpackRelease } from '../local/unpack.js';
import { engineMessage, engineStatus } from './engine.js';

/** Where the release lives in its image (as in the Dagger runner's runtime image). */
export const APP_DIR = '/app';
const DOCKERFILE = '.tollgate.Dockerfile';
/**
 * Longest a pull or a build may take: it holds the environment's queue (a rollback waits behind
 * it), and the deploy activity has 5 minutes in all. A stalled one is aborted and named.
 */
export const IMAGE_TIMEOUT_MS = 180_000;

/** Runs `fn` with an AbortSignal that fires after IMAGE_TIMEOUT_MS; a timeout becomes a clear error. */
async function bounded<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new LocalEnvironmentError(`${what} took longer than ${IMAGE_TIMEOUT_MS / 1000} s and was stopped`),
      );
    }, IMAGE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([fn(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The release's image, ready on the engine: its id (`sha256:…`) or pinned reference. */
export interface ReleaseImage {
  /** What the container is created from. */
  image: string;
  /** How it got there, for the history. */
  source: string;
}

/** True when the engine says the image or its repository does not exist (no retry helps). */
function notFound(err: unknown): boolean {
  const message = engineMessage(err).toLowerCase();
  return (
    engineStatus(err) === 404 ||
    /manifest unknown|not found|does not exist|pull access denied|repository .* not found|no such image/.test(
      message,
    )
  );
}

function imageNotFound(releaseId: string, image: string, fix: string, err: unknown): LocalEnvironmentError {
  return new LocalEnvironmentError(
    `image ${image} does not exist for release ${releaseId} (${engineMessage(err)}): ${fix}`,
    releaseId,
    undefined,
    FailureType.ImageNotFound,
  );
}

/** Waits for a pull or build stream; an `error` line in it is the failure. */
function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, lines: { error?: string; errorDetail?: { message?: string } }[]) => {
        if (err) return reject(err);
        const failed = lines.find((line) => line.error);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
        resolve();
      },
    );
  });
}

/** Pulls `ref` (`registry/repo@sha256:…`) unless the engine has it. */
async function pull(docker: Docker, releaseId: string, ref: string): Promise<ReleaseImage> {
  const have = await docker
    .getImage(ref)
    .inspect()
    .catch(() => null);
  if (!have) {
    try {
      await bounded(`pulling ${ref}`, async (abortSignal) =>
        follow(docker, await docker.pull(ref, { abortSignal })),
      );
    } catch (err) {
      if (notFound(err))
        throw imageNotFound(
          releaseId,
          ref,
          'the build publishes it to a registry the engine reaches; check the registry and the digest',
          err,
        );
      throw err;
    }
  }
  return { image: ref, source: `pulled ${ref}` };
}

/** Builds `tollgate/<app>:<release id>` from the unpacked tarball on `baseImage`; returns its id. */
async function buildFromTarball(
  docker: Docker,
  spec: { releaseId: string; app: string; artifact: ArtifactRef; baseImage: string; user: string },
  dir: string,
  labels: Record<string, string>,
): Promise<ReleaseImage> {
  await unpackRelease(spec.artifact, dir);
  await writeFile(
    join(dir, DOCKERFILE),
    `FROM ${spec.baseImage}\nWORKDIR ${APP_DIR}\nCOPY --chown=${spec.user} . ${APP_DIR}\n`,
  );
  const tag = `tollgate/${spec.app}:${spec.releaseId}`;
  try {
    await bounded(`building ${tag} on ${spec.baseImage}`, async (abortSignal) => {
      // The build context: the release's files as GNU tar packs them (as the unpack reads them).
      const tar = spawn('tar', ['-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const packed = new Promise<void>((resolve, reject) => {
        tar.on('error', reject);
        tar.on('close', (code) =>
          code === 0
            ? resolve()
            : reject(new Error(`tar could not pack ${dir} (exit ${code}): ${stderr.trim()}`)),
        );
      });
      packed.catch(() => undefined); // awaited below, after the build has read the stream
      // The base comes from the engine's images (or its registry mirror) as it has them: no pull per release.
      const stream = await docker.buildImage(tar.stdout, {
        t: tag,
        dockerfile: DOCKERFILE,
        labels,
        rm: true,
        forcerm: true,
        abortSignal,
      });
      await follow(docker, stream);
      await packed; // a partial archive must not make an image
    });
  } catch (err) {
    if (notFound(err))
      throw imageNotFound(
        spec.releaseId,
        spec.baseImage,
        'put it on the engine (docker pull or docker load) or set docker.baseImage to an image it has',
        err,
      );
    throw err;
  } finally {
    // The image holds the files now; the unpacked copy was only its build context.
    await rm(dir, { recursive: true, force: true });
  }
  const built = await docker.getImage(tag).inspect();
  return { image: built.Id, source: `built ${tag} (${built.Id.slice(0, 19)}) on ${spec.baseImage}` };
}

/** The image of a release: its published image when the build made one, else one built from its tarball. */
export function releaseImage(
  docker: Docker,
  spec: { releaseId: string; app: string; artifact: ArtifactRef; baseImage: string; user: string },
  dir: string,
  labels: Record<string, string>,
): Promise<ReleaseImage> {
  const ref = spec.artifact.image?.ref;
  if (ref) return pull(docker, spec.releaseId, ref);
  if (spec.artifact.kind !== 'tarball')
    throw new LocalEnvironmentError(
      `release ${spec.releaseId} has neither a published image nor a tarball: the docker driver cannot run it`,
      spec.releaseId,
      undefined,
      FailureType.InvalidConfig,
    );
  return buildFromTarball(docker, spec, dir, labels);
}
