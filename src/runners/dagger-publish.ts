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
