/**
 * Publishing a release's image so an environment runs exactly it: the registry's answer is the
 * reference pinned by digest (`registry/repo:tag@sha256:…`), which the docker driver pulls. Shared by
 * the worker's Dagger runner and the Dagger module (dagger/src/dagger-publish.ts is a copy).
 */
import type { Container } from '@dagger.io/dagger';

/** Publishes `image` to `address` and returns the pinned reference; an answer without a digest is refused. */
export async function publishPinned(image: Container, address: string): Promise<string> {
  const ref = await image.publish(address);
  if (!/@sha256:[0-9a-f]{64}$/.test(ref))
    throw new Error(
      `publishing to ${address} answered ${JSON.stringify(ref)}, not a reference pinned by digest`,
    );
  return ref;
}

/** A registry tag from `text`: letters, digits, `_`, `.` and `-`, at most 128, starting with a letter, digit or `_`. */
export function imageTag(text: string): string {
  const tag = text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9_]+/, '')
    .slice(0, 128);
  return tag || 'release';
}

/** Where a release's image goes in `repository` (`docker.registry`): tagged by its commit's first 12 characters. */
export function releaseAddress(repository: string, revision: string): string {
  return `${repository}:${imageTag(revision.slice(0, 12))}`;
}
