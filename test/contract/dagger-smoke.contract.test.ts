/** smokeTestImage against a fake engine: the service it asks for and how it reads the probes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { smokeTestImage } from '../../src/runners/dagger-smoke.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import { useSession } from '../support/dagger-fixtures.js';

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
});
