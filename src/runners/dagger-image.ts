/**
 * The build stage's second half: a slim runtime image from the build container, scanned, exported or
 * published, and its /app packed as the same release tarball the host runner makes, so the local
 * environment can deploy a Dagger build too.
 */
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Client, Container, File, ReturnType } from '@dagger.io/dagger';
import { FailureType } from '../failures.js';
import type { ArtifactPlan, ArtifactRef } from '../types.js';
import { cacheMounts } from './dagger-plan.js';
export { slimVariant } from './dagger-plan.js';
import type { DaggerFailure } from './dagger-errors.js';
import {
  execStep,
  exitFailure,
  EXTRA_CA_PATH,
  withExtraCa,
  WORKDIR,
  type StepReporter,
} from './dagger-pipeline.js';
import { packDirectory } from './host.js';
import { publishPinned } from './dagger-publish.js';

/** Where the release lives inside the runtime image. */
export const APP_DIR = '/app';

// Trivy exits with this when it found vulnerabilities at the asked severity; 1 means trivy itself failed.
const VULNERABLE_EXIT = 3;

/** How to assemble, check and ship the runtime image. */
export interface ImageOptions {
  runtimeImage: string;
  /** The command the image starts (its default args). */
  startCommand: string[];
  revision: string;
  created: string;
  cache: boolean;
  retryableExitCodes: number[];
  /** Where the OCI tarball goes on the worker. */
  exportPath: string;
  /** The host runner's release layout (releasePaths): the image's /app is exported and packed there. */
  release: { packDir: string; tarball: string; sbom: string };
  /** Publish to this registry reference too (the digest is then the registry's manifest digest). */
  imageRef?: string;
  /** Fail when trivy finds vulnerabilities of these severities (e.g. `HIGH,CRITICAL`). */
  scanSeverity?: string;
  scanImage: string;
  /** Extra CA certificates for the runtime image's install (see withExtraCa); unmounted before the image ships. */
  extraCaCerts?: string;
}

/** The image, or why it could not be shipped. */
export type ImageOutcome = { artifact: ArtifactRef } | { failure: DaggerFailure };

/**
 * Multi-stage image: only `artifact.include` from the build container's source, production
 * dependencies installed in the runtime image, OCI labels, the start command; then SBOM, scan,
 * export as an OCI tarball and, when a reference is given, publish; last, the image's /app exported
 * and packed as the release tarball (the artifact's path and digest; the image is `artifact.image`).
 */
export async function shipImage(
  client: Client,
  build: Container,
  artifact: ArtifactPlan,
  options: ImageOptions,
  expectAny: ReturnType,
  reporter: StepReporter,
): Promise<ImageOutcome> {
  const caches = options.cache ? cacheMounts([artifact.install]) : [];
  let runtime = withExtraCa(client, client.container().from(options.runtimeImage), options.extraCaCerts)
    .withWorkdir(APP_DIR)
    .withDirectory(APP_DIR, build.directory(WORKDIR), { include: artifact.include })
    .withEnvVariable('NODE_ENV', 'production');
  for (const [path, key] of caches) runtime = runtime.withMountedCache(path, client.cacheVolume(key));

  const installLabel = `install (${artifact.install.join(' ')}) in ${options.runtimeImage}`;
  reporter.step(installLabel);
  const install = await execStep(runtime, artifact.install, {}, expectAny);
  reporter.output(install.output);
  const installFailed = exitFailure(installLabel, install.exitCode, options.retryableExitCodes);
  if (installFailed) return { failure: installFailed };

  let image = install.container;
  for (const [path] of caches) image = image.withoutMount(path);
  if (options.extraCaCerts)
    image = image.withoutMount(EXTRA_CA_PATH).withoutEnvVariable('NODE_EXTRA_CA_CERTS');
  image = image
    .withLabel('org.opencontainers.image.revision', options.revision)
    .withLabel('org.opencontainers.image.created', options.created)
    .withDefaultArgs(options.startCommand);

  let sbomPath: string | undefined;
  if (artifact.sbom.length > 0) {
    reporter.step(`sbom (${artifact.sbom.join(' ')})`);
    const sbom = image.withExec(artifact.sbom, { expect: expectAny });
    const exitCode = await sbom.exitCode();
    if (exitCode !== 0) {
      reporter.output(await sbom.stderr());
      return {
        failure: {
          type: FailureType.StepFailed,
          exitCode,
          message: `sbom (${artifact.sbom.join(' ')}) exited with ${exitCode}`,
        },
      };
    }
    writeFileSync(options.release.sbom, await sbom.stdout());
    sbomPath = options.release.sbom;
  }

  const tarball = image.asTarball();
  if (options.scanSeverity) {
    const scanned = await scan(client, tarball, options, expectAny, reporter);
    if (scanned) return { failure: scanned };
  }

  reporter.step(`export OCI tarball to ${options.exportPath}`);
  await tarball.export(options.exportPath);
  let digest = normalizeDigest(await tarball.digest({ excludeMetadata: true }));
  const sizeBytes = await tarball.size();
  let imageRef: string | undefined;
  if (options.imageRef) {
    reporter.step(`publish ${options.imageRef}`);
    imageRef = await publishPinned(image, options.imageRef);
    const published = imageRef.split('@')[1];
    if (published) digest = normalizeDigest(published);
  }

  // The files the image runs, byte for byte: what the local environment unpacks and starts.
  const { packDir, tarball: releaseTarball } = options.release;
  reporter.step(`export ${APP_DIR} to ${packDir} and pack it as ${releaseTarball}`);
  await rm(packDir, { recursive: true, force: true });
  await image.directory(APP_DIR).export(packDir, { wipe: true });
  const release = await packDirectory(packDir, releaseTarball);
  return {
    artifact: {
      kind: 'tarball',
      ...release,
      ...(sbomPath ? { sbomPath } : {}),
      image: { path: options.exportPath, digest, sizeBytes, ...(imageRef ? { ref: imageRef } : {}) },
    },
  };
}

/** Trivy against the OCI tarball; a failure above the severity, or undefined when clean. */
async function scan(
  client: Client,
  tarball: File,
  options: ImageOptions,
  expectAny: ReturnType,
  reporter: StepReporter,
): Promise<DaggerFailure | undefined> {
  const severity = options.scanSeverity ?? '';
  const label = `scan (trivy, severity ${severity})`;
  reporter.step(label);
  const argv = ['trivy', 'image', '--input', '/tmp/image.tar', '--severity', severity];
  argv.push('--exit-code', String(VULNERABLE_EXIT), '--no-progress');
  const scanner = client
    .container()
    .from(options.scanImage)
    .withMountedCache('/root/.cache/trivy', client.cacheVolume('tollgate-trivy'))
    .withMountedFile('/tmp/image.tar', tarball);
  const run = await execStep(scanner, argv, {}, expectAny);
  reporter.output(run.output);
  if (run.exitCode === 0) return undefined;
  if (run.exitCode === VULNERABLE_EXIT) {
    return {
      type: FailureType.StepFailed,
      exitCode: run.exitCode,
      message: `${label} found vulnerabilities at ${severity}`,
    };
  }
  // The scanner itself failed (its database download, usually): not the release's fault, retry.
  return {
    type: FailureType.StepInterrupted,
    exitCode: run.exitCode,
    message: `${label} failed with ${run.exitCode}`,
  };
}

function normalizeDigest(value: string): string {
  const trimmed = value.trim();
  return trimmed.includes(':') ? trimmed : `sha256:${trimmed}`;
}
