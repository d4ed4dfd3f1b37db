/**
 * Contract tests of the Dagger runner against a fake engine session: they prove the queries the
 * runner sends and how it reads the answers. The real engine cannot run here (no container runtime).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { unpackRelease } from '../../src/environments/local/unpack.js';
import { FailureType, NON_RETRYABLE_FAILURES } from '../../src/failures.js';
import { DaggerRunner, nativeModulesNote } from '../../src/runners/dagger.js';
import { imageTag, releaseAddress } from '../../src/runners/dagger-publish.js';
import * as fakeDagger from '../support/fake-dagger-session.js';
import {
  buildPlan,
  stageContext,
  stageRejection,
  stripeStage,
  testPlan,
  useSession,
  withLockfile,
} from '../support/dagger-fixtures.js';

const SECRET = 'sk_test_51SuperSecretValue0987';

void describe('DaggerRunner (contract, fake engine session)', () => {
  let session: fakeDagger.FakeDaggerSession;
  let restoreEnv: () => void;

  const startSession = async (script: fakeDagger.FakeRule[] = []): Promise<void> => {
    session = await fakeDagger.start(script);
    restoreEnv = useSession(session);
  };
  beforeEach(() => startSession());
  afterEach(async () => {
    restoreEnv();
    await session.close();
  });

  void it('turns a test stage into image, source without excluded folders, cache volume and the steps in order', async () => {
    const ctx = stageContext();
    const result = await new DaggerRunner().runStage(testPlan(), ctx);

    assert.equal(result.runner, 'dagger');
    assert.equal(result.exitCode, 0);
    assert.equal(result.logPath, join(ctx.runDir, 'test-suite.log'));
    const all = session.queries.join('\n');
    assert.match(all, /from \(address: "node:20-slim"\)/);
    assert.ok(
      all.includes(
        `directory (path: ${JSON.stringify(ctx.sourceDir)},exclude: ["node_modules",".git",".tollgate","dist"])`,
      ),
    );
    assert.match(all, /cacheVolume \(key: "tollgate-npm"\)/);
    assert.match(all, /withMountedCache \(path: "\/root\/\.npm"/);
    assert.match(all, /withDirectory \(path: "\/src"/);
    assert.ok(
      all.includes(`directory (path: ${JSON.stringify(ctx.sourceDir)},include: ["package.json"])`),
      'the install sees the manifest only',
    );
    const last = session.queries.at(-1) ?? '';
    const ci = last.indexOf('withExec (args: ["npm","ci"],expect: ANY)');
    const test = last.indexOf('withExec (args: ["npm","test","--","--coverage"],expect: ANY)');
    assert.ok(ci > 0 && test > ci, 'the second step runs on top of the first');
    assert.ok(last.indexOf('withEnvVariable (name: "FORCE_COLOR"') > ci, 'step env is set for its own step');
  });

  void it('busts the cache and mounts no cache volume when the plan may not be cached', async () => {
    await new DaggerRunner().runStage(testPlan({ cache: false }), stageContext());
    const all = session.queries.join('\n');
    assert.doesNotMatch(all, /cacheVolume/);
    assert.match(all, /withEnvVariable \(name: "TOLLGATE_CACHE_BUST"/);
  });

  void it('sends a secret value only in its setSecret call and redacts it from the log and tail', async () => {
    restoreEnv();
    await session.close();
    await startSession([{ when: 'combinedOutput', reply: { value: `token is ${SECRET}\n` } }]);
    const ctx = stageContext({ secrets: { STRIPE_SECRET_KEY: SECRET } });
    const result = await new DaggerRunner().runStage(testPlan({ secrets: ['STRIPE_SECRET_KEY'] }), ctx);

    const carrying = session.queries.filter((query) => query.includes(SECRET));
    assert.equal(carrying.length, 1);
    assert.match(carrying[0] ?? '', /^\s*\{ setSecret \(name: "STRIPE_SECRET_KEY",plaintext: /);
    assert.match(
      session.queries.join('\n'),
      /withSecretVariable \(name: "STRIPE_SECRET_KEY",secret: "fake-setSecret-id"\)/,
    );
    assert.doesNotMatch(session.queries.join('\n'), /withEnvVariable \(name: "STRIPE_SECRET_KEY"/);
    const log = readFileSync(result.logPath, 'utf8');
    assert.ok(!log.includes(SECRET) && !result.logTail.includes(SECRET));
    assert.match(log, /token is \[REDACTED\]/);
  });

  void it('fails with StepFailed, the exit code and the output tail when a step exits non-zero', async () => {
    restoreEnv();
    await session.close();
    await startSession([
      { when: /"npm","test".*exitCode/s, reply: { value: 1 } },
      {
        when: /"npm","test".*combinedOutput/s,
        reply: { value: 'not ok 3 - refunds are recorded\n# fail 1\n' },
      },
    ]);
    const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
    assert.equal(error.type, FailureType.StepFailed);
    assert.equal(error.exitCode, 1);
    assert.match(error.logTail, /refunds are recorded/);
    assert.match(error.message, /step 2\/2 \(npm test -- --coverage\) exited with 1/);
  });

  void it('fails with StepInterrupted when the exit code is one the plan calls retryable', async () => {
    restoreEnv();
    await session.close();
    await startSession([{ when: /"ci".*exitCode/s, reply: { value: 75 } }]);
    const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
    assert.equal(error.type, FailureType.StepInterrupted);
    assert.equal(error.exitCode, 75);
  });

  void it('reads an engine EXEC_ERROR as StepFailed with its exit code and output', async () => {
    restoreEnv();
    await session.close();
    const execError = {
      cmd: ['npm', 'ci'],
      exitCode: 2,
      stdout: 'npm ERR! lockfile out of date\n',
      stderr: 'boom\n',
    };
    await startSession([{ when: 'exitCode', reply: { execError } }]);
    const error = await stageRejection(new DaggerRunner().runStage(testPlan(), stageContext()));
    assert.equal(error.type, FailureType.StepFailed);
    assert.equal(error.exitCode, 2);
    assert.match(error.logTail, /lockfile out of date/);
    assert.match(error.logTail, /boom/);
  });

  void it('applies the coverage gate to the steps output', async () => {
    restoreEnv();
    await session.close();
    const table = 'File | % Stmts | % Branch | % Funcs | % Lines |\nAll files | 91 | 80 | 90 | 84.5 |\n';
    await startSession([{ when: 'combinedOutput', reply: { value: table } }]);
    const error = await stageRejection(
      new DaggerRunner().runStage(testPlan({ coverageMinimum: 90 }), stageContext()),
    );
    assert.equal(error.type, FailureType.CoverageShortfall);
    assert.match(error.message, /84\.5% is below the 90% gate/);
  });

  void it('installs dependencies in a shared prefix before the steps, with the npm cache mounted and no secrets', async () => {
    const runner = new DaggerRunner();
    const installs: string[] = [];
    for (const [name, env] of [
      ['test-suite', { NODE_ENV: 'test' }],
      ['test-rag-engine', { RAG_K: '5' }],
    ] as const) {
      const ctx = withLockfile(stageContext({ secrets: { STRIPE_SECRET_KEY: SECRET } }));
      const plan = testPlan({
        name,
        env,
        secrets: ['STRIPE_SECRET_KEY'],
        steps: [{ run: ['npm', 'test'], env: {} }],
      });
      const result = await runner.runStage(plan, ctx);
      const last = session.queries.at(-1) ?? '';
      const order = [
        'withMountedCache (path: "/root/.npm",cache: "fake-cacheVolume-id")',
        'withDirectory (path: "/src"',
        'withExec (args: ["npm","ci","--no-audit","--no-fund","--prefer-offline"],expect: ANY)',
        'withDirectory (path: "/src"',
        'withEnvVariable (name: "TOLLGATE_STAGE"',
        'withSecretVariable (name: "STRIPE_SECRET_KEY"',
        'withExec (args: ["npm","test"],expect: ANY)',
      ].reduce<number[]>((at, part) => [...at, last.indexOf(part, (at.at(-1) ?? -1) + 1)], []);
      assert.ok(
        order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] ?? 0))),
        `cache, manifests, install, source, stage settings, secrets, steps in order: ${order.join(', ')}`,
      );
      assert.match(readFileSync(result.logPath, 'utf8'), /install dependencies \(npm ci /);
      const install = session.queries.find((q) => q.includes('"npm","ci"') && !q.includes('"npm","test"'));
      assert.ok(install, 'the install ran (and was read) on its own');
      installs.push(install);
      restoreEnv();
      await session.close();
      await startSession();
    }
    assert.doesNotMatch(installs[0] ?? '', /TOLLGATE_STAGE|withEnvVariable|withSecretVariable/);
    assert.equal(
      installs[0],
      installs[1],
      'two stages ask for the identical install chain (one cache entry)',
    );
  });

  void it('adds no install when the stage installs itself or the source has no package manifest', async () => {
    await new DaggerRunner().runStage(testPlan(), withLockfile(stageContext()));
    const last = session.queries.at(-1) ?? '';
    assert.equal(last.split('"npm","ci"').length - 1, 1, "only the stage's own npm ci step");

    const bare = stageContext();
    rmSync(join(bare.sourceDir, 'package.json'));
    await new DaggerRunner().runStage(testPlan({ steps: [{ run: ['make'], env: {} }] }), bare);
    assert.doesNotMatch(session.queries.at(-1) ?? '', /"install"|"ci"/);
  });

  void it('fails the stage with the install named when the dependency install exits non-zero', async () => {
    restoreEnv();
    await session.close();
    await startSession([
      { when: /"npm","ci".*exitCode/s, reply: { value: 1 } },
      {
        when: /"npm","ci".*combinedOutput/s,
        reply: { value: 'npm ERR! `npm ci` needs a lockfile in sync\n' },
      },
    ]);
    const plan = testPlan({ steps: [{ run: ['npm', 'test'], env: {} }] });
    const error = await stageRejection(new DaggerRunner().runStage(plan, withLockfile(stageContext())));
    assert.equal(error.type, FailureType.StepFailed);
    assert.equal(error.exitCode, 1);
    assert.match(
      error.message,
      /install dependencies \(npm ci --no-audit --no-fund --prefer-offline\) exited with 1/,
    );
    assert.match(error.logTail, /needs a lockfile in sync/);
    assert.ok(!session.queries.some((q) => q.includes('"npm","test"')), 'the steps never ran');
  });

  void it('binds a stage service from its pinned image and gives the steps its env', async () => {
    const result = await new DaggerRunner().runStage(stripeStage(), withLockfile(stageContext()));
    assert.equal(result.exitCode, 0);
    const service = session.queries.find((q) => q.includes('asService'));
    assert.match(
      service ?? '',
      /from \(address: "stripe\/stripe-mock:v0\.203\.0"\) \{ withExposedPort \(port: 12111\) \{ asService \(useEntrypoint: true\) \{ id\s*\}/,
    );
    const last = session.queries.at(-1) ?? '';
    const install = last.indexOf('"npm","ci"');
    const binding = last.indexOf('withServiceBinding (alias: "stripe-mock",service: "fake-asService-id")');
    const env = last.indexOf('withEnvVariable (name: "STRIPE_MOCK_URL",value: "http://stripe-mock:12111")');
    const step = last.indexOf('withExec (args: ["npm","run","test:stripe"]');
    assert.ok(
      install > 0 && binding > install && env > binding && step > env,
      `${install} ${binding} ${env} ${step}`,
    );
  });

  void it('builds a multi-stage image, exports it and packs its /app as the release tarball', async () => {
    restoreEnv();
    await session.close();
    await startSession([
      fakeDagger.onDirectoryExport((path) => {
        mkdirSync(join(path, 'dist'), { recursive: true });
        writeFileSync(join(path, 'dist', 'server.js'), 'console.log("release")\n');
        writeFileSync(join(path, 'package.json'), '{"name":"app","version":"1.0.0"}\n');
      }),
    ]);
    const ctx = stageContext();
    const result = await new DaggerRunner().runStage(buildPlan(), ctx);

    const all = session.queries.join('\n');
    assert.match(all, /from \(address: "node:20"\)/, 'build container');
    assert.match(
      all,
      /from \(address: "node:20-slim"\) \{ withWorkdir \(path: "\/app"\)/,
      'slim runtime container',
    );
    assert.match(
      all,
      /withDirectory \(path: "\/app",source: "[^"]+",include: \["dist","package.json","package-lock.json"\]\)/,
    );
    assert.match(all, /withExec \(args: \["npm","ci","--omit=dev"\],expect: ANY\)/);
    assert.match(all, /withLabel \(name: "org.opencontainers.image.revision",value: "0123456789abcdef"\)/);
    assert.match(all, /withLabel \(name: "org.opencontainers.image.created"/);
    assert.match(all, /withDefaultArgs \(args: \["npm","start"\]\)/);
    const exportPath = join(ctx.runDir, 'image.oci.tar');
    assert.ok(all.includes(`asTarball  { export (path: ${JSON.stringify(exportPath)}) }`));
    assert.doesNotMatch(all, /publish/);
    const packDir = join(ctx.runDir, 'artifact');
    assert.ok(
      all.includes(`directory (path: "/app") { export (path: ${JSON.stringify(packDir)},wipe: true) }`),
      "the runtime image's /app is exported to the run directory",
    );
    const tarball = join(ctx.runDir, 'release.tgz');
    const digest = `sha256:${createHash('sha256').update(readFileSync(tarball)).digest('hex')}`;
    assert.deepEqual(result.artifact, {
      kind: 'tarball',
      path: tarball,
      digest,
      sizeBytes: statSync(tarball).size,
      image: { path: exportPath, digest: fakeDagger.FAKE_DIGEST, sizeBytes: fakeDagger.FAKE_SIZE },
    });
    assert.ok(!existsSync(packDir), 'the exported directory is removed once packed');
    assert.match(result.summary, /image sha256:abababab.*; artifact sha256:/);
    // What the local environment does with it: verify the digest, unpack, find package.json.
    const unpacked = join(ctx.runDir, 'unpacked');
    await unpackRelease(result.artifact, unpacked);
    assert.equal(readFileSync(join(unpacked, 'dist', 'server.js'), 'utf8'), 'console.log("release")\n');

    // Reproducible: the same files exported again pack to the same digest.
    const again = await new DaggerRunner().runStage(buildPlan(), stageContext());
    assert.equal(again.artifact?.digest, digest);
  });

  void it('notes when the tarball was built for another platform or Node major than the worker runs', () => {
    assert.equal(nativeModulesNote('node:20-slim', 'linux', '20.19.1'), undefined);
    assert.match(nativeModulesNote('node:20-slim', 'darwin', '20.19.1') ?? '', /this worker runs darwin/);
    assert.match(nativeModulesNote('node:20', 'linux', '22.1.0') ?? '', /Node 20, this worker Node 22/);
  });

  void it('publishes when an image reference is given and reports the registry digest', async () => {
    restoreEnv();
    await session.close();
    const pushed = `sha256:${'cd'.repeat(32)}`;
    await startSession([{ when: 'publish', reply: { value: `127.0.0.1:5000/saas-app:0123@${pushed}` } }]);
    const result = await new DaggerRunner({ imageRef: '127.0.0.1:5000/saas-app:0123' }).runStage(
      buildPlan(),
      stageContext(),
    );
    assert.match(session.queries.join('\n'), /publish \(address: "127.0.0.1:5000\/saas-app:0123"\)/);
    assert.equal(result.artifact?.image?.digest, pushed);
    assert.equal(result.artifact?.image?.ref, `127.0.0.1:5000/saas-app:0123@${pushed}`);
    assert.equal(result.artifact?.kind, 'tarball', 'the release tarball is packed as well');
  });

  void it('refuses a publish answer that is not pinned by digest: an environment deploys exactly one image', async () => {
    restoreEnv();
    await session.close();
    await startSession([{ when: 'publish', reply: { value: '127.0.0.1:5000/saas-app:0123' } }]);
    await assert.rejects(
      new DaggerRunner({ imageRef: '127.0.0.1:5000/saas-app:0123' }).runStage(buildPlan(), stageContext()),
      /publishing to 127\.0\.0\.1:5000\/saas-app:0123 answered "127\.0\.0\.1:5000\/saas-app:0123", not a reference pinned by digest/,
    );
  });

  void it("publishes to the docker environments' registry, tagged by the release's commit, and labels the image with it", async () => {
    restoreEnv();
    await session.close();
    const pushed = `sha256:${'ef'.repeat(32)}`;
    await startSession([
      { when: 'publish', reply: { value: `127.0.0.1:5000/saas-app:0123456789ab@${pushed}` } },
    ]);
    const commit = '0123456789abcdef0123456789abcdef01234567';
    const plan = buildPlan({ env: {} });
    const result = await new DaggerRunner({ env: {} }).runStage(
      { ...plan, artifact: { ...plan.artifact!, publishTo: '127.0.0.1:5000/saas-app' } },
      stageContext({ commit }),
    );
    const queries = session.queries.join('\n');
    assert.match(queries, /publish \(address: "127\.0\.0\.1:5000\/saas-app:0123456789ab"\)/);
    assert.ok(
      queries.includes(`withLabel (name: "org.opencontainers.image.revision",value: "${commit}")`),
      'the image says which commit it is',
    );
    assert.equal(result.artifact?.image?.ref, `127.0.0.1:5000/saas-app:0123456789ab@${pushed}`);

    // A run without a commit (schema 1) is tagged by its whole run id.
    await new DaggerRunner({ env: {} }).runStage(
      { ...plan, artifact: { ...plan.artifact!, publishTo: '127.0.0.1:5000/saas-app' } },
      stageContext(),
    );
    assert.match(
      session.queries.join('\n'),
      /publish \(address: "127\.0\.0\.1:5000\/saas-app:release-app-0123456789ab-test"\)/,
    );
  });

  void it('TOLLGATE_IMAGE_REF wins over the registry; without either nothing is published', async () => {
    const plan = buildPlan({ env: {} });
    const withRegistry = { ...plan, artifact: { ...plan.artifact!, publishTo: '127.0.0.1:5000/saas-app' } };
    restoreEnv();
    await session.close();
    await startSession([
      { when: 'publish', reply: { value: `127.0.0.1:5000/other:x@${fakeDagger.FAKE_DIGEST}` } },
    ]);
    await new DaggerRunner({ env: { TOLLGATE_IMAGE_REF: '127.0.0.1:5000/other:x' } }).runStage(
      withRegistry,
      stageContext(),
    );
    assert.match(session.queries.join('\n'), /publish \(address: "127\.0\.0\.1:5000\/other:x"\)/);

    restoreEnv();
    await session.close();
    await startSession();
    const unpublished = await new DaggerRunner({ env: {} }).runStage(plan, stageContext());
    assert.ok(!session.queries.some((q) => q.includes('publish')), 'no registry named: no publish');
    assert.equal(unpublished.artifact?.image?.ref, undefined);
  });

  void it("tags by the commit's first 12 characters; anything else becomes a tag a registry accepts", () => {
    assert.equal(releaseAddress('127.0.0.1:5000/app', '0123456789abcdef'), '127.0.0.1:5000/app:0123456789ab');
    assert.equal(imageTag('release/saas-app@x y'), 'release-saas-app-x-y');
    assert.equal(imageTag('--.'), 'release');
    assert.equal(imageTag('a'.repeat(200)).length, 128);
  });

  void it("publishes with the module's code: deploy-to-staging and the runner share dagger-publish.ts", () => {
    const read = (path: string): string => readFileSync(join(process.cwd(), path), 'utf8');
    assert.equal(read('dagger/src/dagger-publish.ts'), read('src/runners/dagger-publish.ts'));
    assert.match(read('dagger/src/index.ts'), /async deployToStaging\([\s\S]*publishPinned\(/);
  });

  void it('fails the build with StepFailed when the scan finds vulnerabilities at the severity', async () => {
    restoreEnv();
    await session.close();
    await startSession([
      { when: /"trivy".*exitCode/s, reply: { value: 3 } },
      { when: /"trivy".*combinedOutput/s, reply: { value: 'CVE-2099-0001 CRITICAL openssl\n' } },
    ]);
    const runner = new DaggerRunner({ scanSeverity: 'HIGH,CRITICAL' });
    const error = await stageRejection(runner.runStage(buildPlan(), stageContext()));
    assert.equal(error.type, FailureType.StepFailed);
    assert.match(error.logTail, /CVE-2099-0001/);
    assert.match(session.queries.join('\n'), /from \(address: "aquasec\/trivy:0\.58\.1"\)/);
    assert.doesNotMatch(session.queries.join('\n'), /export \(path/, 'a vulnerable image is not exported');
  });

  void it('trusts extra CA certificates (TOLLGATE_EXTRA_CA_CERTS) in the install and steps, never in the image', async () => {
    const ctx = withLockfile(stageContext());
    const pem = join(ctx.sourceDir, '..', 'extra-ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const runner = new DaggerRunner({ env: { TOLLGATE_EXTRA_CA_CERTS: pem } });
    await runner.runStage(buildPlan(), ctx);
    const all = session.queries.join('\n');
    assert.ok(all.includes(`file (path: ${JSON.stringify(pem)})`), 'the worker file is mounted');
    const install = session.queries.find((q) => q.includes('"npm","ci"') && q.includes('exitCode')) ?? '';
    assert.match(install, /withMountedFile \(path: "\/etc\/ssl\/certs\/tollgate-extra-ca\.pem"/);
    assert.match(
      install,
      /withEnvVariable \(name: "NODE_EXTRA_CA_CERTS",value: "\/etc\/ssl\/certs\/tollgate-extra-ca\.pem"\)/,
    );
    const exported = session.queries.find((q) => q.includes('asTarball')) ?? '';
    assert.match(exported, /withoutMount \(path: "\/etc\/ssl\/certs\/tollgate-extra-ca\.pem"\)/);
    assert.match(exported, /withoutEnvVariable \(name: "NODE_EXTRA_CA_CERTS"\)/);
  });

  void it('calls EngineUnavailable retryable and StepFailed not', () => {
    assert.ok(!NON_RETRYABLE_FAILURES.includes(FailureType.EngineUnavailable));
    assert.ok(NON_RETRYABLE_FAILURES.includes(FailureType.StepFailed));
  });
});
