/** smokeTestImage against a fake engine: the service it asks for and how it reads the probes. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDaggerSmokeActivities, type ImageSmokeInput } from '../../src/activities/dagger-smoke.js';
import { FailureType } from '../../src/failures.js';
import { smokeTestImage } from '../../src/runners/dagger-smoke.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import { useSession } from '../support/dagger-fixtures.js';

/** Runs `fn` against a fresh fake session scripted by `script`; returns its result and the queries. */
async function withFake<T>(
  script: fakeDagger.FakeRule[],
  fn: () => Promise<T>,
): Promise<{ result: T | undefined; error: unknown; queries: string[] }> {
  const session = await fakeDagger.start(script);
  const restore = useSession(session);
  try {
    return { result: await fn(), error: undefined, queries: session.queries };
  } catch (error) {
    return { result: undefined, error, queries: session.queries };
  } finally {
    restore();
    await session.close();
  }
}

/** The activity's input for an image the build left in a run directory. */
function imageInput(overrides: Partial<ImageSmokeInput> = {}): ImageSmokeInput {
  const tarball = join(mkdtempSync(join(tmpdir(), 'tollgate-smoke-')), 'image.oci.tar');
  writeFileSync(tarball, 'oci');
  return {
    image: { path: tarball, digest: fakeDagger.FAKE_DIGEST, sizeBytes: 3 },
    paths: ['/healthz', '/api/insights?q=pricing'],
    env: { DATABASE_PATH: '${TOLLGATE_DATA_DIR}/saas.db', LOG_LEVEL: 'warn' },
    ...overrides,
  };
}

const activity = (input: ImageSmokeInput): Promise<unknown> =>
  new MockActivityEnvironment().run(() => createDaggerSmokeActivities().smokeTestImage(input));

void describe('smokeTestImage (contract, fake engine session)', () => {
  void it('runs the image as a service, probes each path through a service binding, and reports each', async () => {
    const session = await fakeDagger.start([
      { when: /\/healthz".*stdout/s, reply: { value: '200' } },
      { when: /\/ready".*stdout/s, reply: { value: '503' } },
      { when: /\/down".*exitCode/s, reply: { value: 7 } },
    ]);
    const restore = useSession(session);
    try {
      const probes = await smokeTestImage({
        image: { tarball: '/tmp/run/image.oci.tar' },
        port: 8080,
        paths: ['/healthz', '/ready', '/down'],
      });
      assert.deepEqual(probes, [
        { path: '/healthz', ok: true, status: 200, curlExitCode: 0 },
        { path: '/ready', ok: false, status: 503, curlExitCode: 0 },
        { path: '/down', ok: false, status: null, curlExitCode: 7 },
      ]);
      const all = session.queries.join('\n');
      assert.match(all, /import \(source: "[^"]+"\)/);
      assert.match(all, /file \(path: "\/tmp\/run\/image.oci.tar"\)/);
      assert.match(all, /withExposedPort \(port: 8080\) \{ asService \(useEntrypoint: true\)/);
      assert.match(all, /withServiceBinding \(alias: "app",service: "[^"]+"\)/);
      assert.match(all, /"http:\/\/app:8080\/healthz"/);
    } finally {
      restore();
      await session.close();
    }
  });

  void it('the activity runs the build image as a service on PORT and probes health and routes through it', async () => {
    const input = imageInput();
    const { result, error, queries } = await withFake(
      [{ when: /"http:\/\/app:8080\/[^"]*".*stdout/s, reply: { value: '200' } }],
      () => activity(input),
    );
    assert.equal(error, undefined);
    assert.deepEqual(result, [
      { path: '/healthz', ok: true, status: 200, curlExitCode: 0 },
      { path: '/api/insights?q=pricing', ok: true, status: 200, curlExitCode: 0 },
    ]);
    const all = queries.join('\n');
    assert.ok(all.includes(`file (path: ${JSON.stringify(input.image.path)})`), 'the local OCI tarball');
    const service = queries.find((q) => q.includes('asService')) ?? '';
    for (const env of [
      'withEnvVariable (name: "DATABASE_PATH",value: "/tmp/tollgate-data/saas.db")',
      'withEnvVariable (name: "PORT",value: "8080")',
      'withEnvVariable (name: "HOST",value: "0.0.0.0")',
    ]) {
      assert.ok(service.includes(env), `the service gets ${env}`);
    }
    assert.match(service, /withExposedPort \(port: 8080\) \{ asService \(useEntrypoint: true\)/);
    const probes = queries.filter((q) => q.includes('"curl"'));
    assert.ok(probes.length >= 2);
    for (const probe of probes) {
      assert.match(probe, /withServiceBinding \(alias: "app",service: "fake-asService-id"\)/);
    }
    assert.ok(all.includes('"http://app:8080/api/insights?q=pricing"'));
  });

  void it('the activity fails with SmokeTestFailed naming each failed probe', async () => {
    const { error } = await withFake(
      [
        { when: /\/healthz".*stdout/s, reply: { value: '503' } },
        { when: /insights.*exitCode/s, reply: { value: 7 } },
      ],
      () => activity(imageInput()),
    );
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, FailureType.SmokeTestFailed);
    assert.equal(error.nonRetryable, true);
    assert.match(
      error.message,
      /2 of 2 probes failed: \/healthz \(HTTP 503\); \/api\/insights\?q=pricing \(no answer, curl exit 7\)/,
    );
  });

  void it('the activity uses the published reference when the OCI tarball is not on this worker', async () => {
    const ref = `registry.example/saas-app:abc@${fakeDagger.FAKE_DIGEST}`;
    const missing = { path: '/nonexistent/image.oci.tar', digest: fakeDagger.FAKE_DIGEST, sizeBytes: 1 };
    const { queries } = await withFake([{ when: 'stdout', reply: { value: '204' } }], () =>
      activity(imageInput({ image: { ...missing, ref } })),
    );
    assert.ok(queries.join('\n').includes(`from (address: ${JSON.stringify(ref)})`));

    const { error } = await withFake([], () => activity(imageInput({ image: missing })));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, FailureType.InvalidConfig);
    assert.match(error.message, /not on this worker and the image was not published/);
  });

  void it('the activity reports an unreachable engine as a retryable EngineUnavailable', async () => {
    const restore = useSession({ port: await fakeDagger.closedPort(), token: 'unused' });
    try {
      const error = await activity(imageInput()).catch((e: unknown) => e);
      assert.ok(error instanceof ApplicationFailure, String(error));
      assert.equal(error.type, FailureType.EngineUnavailable);
      assert.equal(error.nonRetryable, false);
    } finally {
      restore();
    }
  });
});
