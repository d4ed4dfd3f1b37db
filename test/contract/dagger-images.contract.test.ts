/**
 * Contract tests of the images a Dagger release pulls (fake engine session: no real engine in CI).
 * What a real engine showed: the image smoke test pulled `curlimages/curl:latest`, which nothing
 * declared, and a missing image was called EngineUnavailable and retried three times. Now every
 * image is in the config (with pinned defaults) and in `tollgate plans`; an image that does not
 * resolve fails the stage at once, naming the image and its config field.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { releaseImages } from '../../src/config/images.js';
import { loadConfig, resolveConfig } from '../../src/config/load.js';
import { DEFAULT_IMAGES } from '../../src/constants.js';
import { FailureType, NON_RETRYABLE_FAILURES } from '../../src/failures.js';
import { DaggerRunner } from '../../src/runners/dagger.js';
import { smokeTestImage } from '../../src/runners/dagger-smoke.js';
import { StageError } from '../../src/runners/errors.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import {
  buildPlan,
  stageContext,
  stageRejection,
  stripeStage,
  testPlan,
  useSession,
} from '../support/dagger-fixtures.js';

async function problemsOf(config: Record<string, unknown>): Promise<{ path: string; message: string }[]> {
  try {
    await resolveConfig(
      { app: 'saas-app', source: '.', stages: { test: { steps: [['npm', 'test']] } }, ...config },
      join(process.cwd(), 'tollgate.config.ts'),
    );
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
}

void describe('the images a release pulls (contract)', () => {
  let session: fakeDagger.FakeDaggerSession | undefined;
  let restore = (): void => undefined;
  afterEach(async () => {
    restore();
    await session?.close();
    session = undefined;
  });
  const withEngine = async (script: fakeDagger.FakeRule[]): Promise<fakeDagger.FakeDaggerSession> => {
    session = await fakeDagger.start(script);
    restore = useSession(session);
    return session;
  };

  void it('are all declared and pinned: tollgate plans lists each with the field that names it', async () => {
    const config = await loadConfig('tollgate.config.ts');
    const images = releaseImages(config);
    assert.deepEqual(images, [
      { image: 'node:20', field: 'defaults.image' },
      { image: 'stripe/stripe-mock:v0.203.0', field: 'stages.test-stripe-integration.services[0].image' },
      { image: 'node:20-slim', field: 'images.runtime' },
      { image: DEFAULT_IMAGES.scanner, field: 'images.scanner (used when TOLLGATE_SCAN_SEVERITY is set)' },
      { image: DEFAULT_IMAGES.probe, field: 'images.probe' },
    ]);
    for (const { image } of images) assert.match(image, /:[^:/@]+$|@sha256:/, `${image} is pinned`);
    assert.equal(
      config.stages.at(-1)?.artifact?.runtimeImage,
      'node:20-slim',
      'the slim variant, resolved in the plan',
    );
  });

  void it('refuses an unpinned image anywhere in the config, naming the field', async () => {
    const latest = await problemsOf({ images: { probe: 'curlimages/curl:latest' } });
    assert.deepEqual(
      latest.map((p) => p.path),
      ['images.probe'],
    );
    assert.match(latest[0]?.message ?? '', /must be pinned to a tag or digest/);
    const untagged = await problemsOf({ stages: { test: { image: 'node', steps: [['npm', 'test']] } } });
    assert.deepEqual(
      untagged.map((p) => p.path),
      ['stages.test.image'],
    );
    assert.deepEqual(
      (await problemsOf({ defaults: { image: 'node:latest' } })).map((p) => p.path),
      ['defaults.image'],
    );
    assert.deepEqual(
      (await problemsOf({ images: { probe: 'curl:8', extra: 'x' } })).length,
      1,
      'unknown keys refused',
    );
  });

  void it('fails a stage whose image does not resolve with ImageNotFound, not retried, naming image and field', async () => {
    const s = await withEngine([fakeDagger.missingImage('node:20-slim-typo')]);
    const error = await stageRejection(
      new DaggerRunner().runStage(testPlan({ image: 'node:20-slim-typo' }), stageContext()),
    );
    assert.equal(error.type, FailureType.ImageNotFound);
    assert.ok(NON_RETRYABLE_FAILURES.includes(FailureType.ImageNotFound));
    assert.match(
      error.message,
      /^image node:20-slim-typo \(stages\.test-suite\.image \(or defaults\.image\)\) did not resolve: /,
    );
    assert.match(error.message, /not found/);
    assert.ok(!s.queries.some((q) => q.includes('withExec')), 'nothing ran');
  });

  void it("names a service's image and the build's runtime base the same way", async () => {
    await withEngine([fakeDagger.missingImage('stripe/stripe-mock:v0.203.0')]);
    const service = await stageRejection(new DaggerRunner().runStage(stripeStage(), stageContext()));
    assert.equal(service.type, FailureType.ImageNotFound);
    assert.match(service.message, /stages\.test-stripe-integration\.services\[0\]\.image/);
    restore();
    await session?.close();

    await withEngine([fakeDagger.missingImage('acme/runtime:1')]);
    const plan = buildPlan();
    const runtime = await stageRejection(
      new DaggerRunner().runStage(
        { ...plan, artifact: { ...plan.artifact!, runtimeImage: 'acme/runtime:1' } },
        stageContext(),
      ),
    );
    assert.equal(runtime.type, FailureType.ImageNotFound);
    assert.match(runtime.message, /image acme\/runtime:1 \(images\.runtime/);
  });

  void it('probes with the declared probe image, and names images.probe when it does not resolve', async () => {
    const s = await withEngine([]);
    const probes = await smokeTestImage({
      image: { ref: 'registry.test/app@sha256:' + 'a'.repeat(64) },
      port: 8080,
      paths: ['/healthz'],
    });
    assert.equal(probes.length, 1);
    assert.ok(s.queries.some((q) => q.includes(`from (address: ${JSON.stringify(DEFAULT_IMAGES.probe)})`)));
    assert.ok(!s.queries.some((q) => q.includes(':latest')), 'nothing unpinned is pulled');
    restore();
    await s.close();

    await withEngine([fakeDagger.missingImage('acme/probe:2')]);
    const error = await smokeTestImage({
      image: { ref: 'registry.test/app@sha256:' + 'a'.repeat(64) },
      port: 8080,
      paths: ['/healthz'],
      curlImage: 'acme/probe:2',
    }).then(
      () => assert.fail('the probe ran'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StageError);
    assert.equal(error.type, FailureType.ImageNotFound);
    assert.match(error.message, /image acme\/probe:2 \(images\.probe\) did not resolve/);
  });

  void it('calls a registry that does not answer EngineUnavailable (retryable), naming the image', async () => {
    await withEngine([
      {
        when: 'from (address: "node:20-slim")',
        reply: {
          error:
            'failed to resolve image "library/node:20-slim" (platform: "linux/amd64"): failed to do request: Head "http://127.0.0.1:5999/v2/library/node/manifests/20-slim": dial tcp 127.0.0.1:5999: connect: connection refused',
        },
      },
    ]);
    const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
    assert.equal(error.type, FailureType.EngineUnavailable);
    assert.match(error.message, /^the registry of image node:20-slim \(stages\.test-suite\.image/);
  });

  void it('still calls a dropped connection during resolution EngineUnavailable (retryable)', async () => {
    await withEngine([{ when: 'imageRef', reply: { reset: true } }]);
    const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
    assert.equal(error.type, FailureType.EngineUnavailable);
  });
});
