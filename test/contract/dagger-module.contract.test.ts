/**
 * The Dagger module's own functions (dagger/src), called as `dagger call` would call them, against the
 * fake Dagger session: no module can run on a real engine on this machine (no registry serves Dagger's
 * module runtime), so the module's code is compiled here and its `dag` client points at the fake.
 * What is checked is what the module asks the engine for, and what it returns.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as fakeDagger from '../support/fake-dagger-session.js';
import { buildPlan, useSession } from '../support/dagger-fixtures.js';

const root = process.cwd();
const PUSHED = `sha256:${'cd'.repeat(32)}`;

/** The module's class as the compiled index.js exports it (only what the tests call). */
interface ModuleClass {
  new (): {
    // The SDK's Directory; typed loosely here because the compiled module is loaded at run time.
    deployToStaging(source: object, address?: string, revision?: string): Promise<string>;
  };
}

/** Compiles dagger/src into `dir/src` (beside the repository's node_modules, so the SDK resolves). */
function compileModule(dir: string): void {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      '--ignoreConfig', // dagger/tsconfig.json maps the SDK to the module's generated sdk/, absent here
      ...['--outDir', join(dir, 'src'), '--rootDir', join(root, 'dagger', 'src')],
      ...['--module', 'esnext', '--moduleResolution', 'bundler', '--target', 'es2022'],
      ...['--experimentalDecorators', '--skipLibCheck', '--types', 'node'],
      join(root, 'dagger', 'src', 'index.ts'),
    ],
    { stdio: 'pipe' },
  );
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
}

/** plans.json as `tollgate plans` writes it: the build stage, with the registry the environments pull from. */
function writePlans(dir: string, publishTo?: string): void {
  const plan = buildPlan();
  const artifact = { ...plan.artifact!, ...(publishTo ? { publishTo } : {}) };
  writeFileSync(
    join(dir, 'plans.json'),
    JSON.stringify({ app: 'saas-app', source: '.', stages: [{ ...plan, env: {}, artifact }] }),
  );
}

void describe('the Dagger module against the fake session (no module runs on a real engine here)', () => {
  let dir: string;
  let Tollgate: ModuleClass;
  let session: fakeDagger.FakeDaggerSession;
  let restoreEnv: () => void;
  // dagger/src/plans.ts reads plans.json once and keeps it: each test loads the module afresh.
  let loads = 0;
  const load = async (publishTo?: string): Promise<ModuleClass> => {
    writePlans(dir, publishTo);
    const url = `${pathToFileURL(join(dir, 'src', 'index.js')).href}?load=${++loads}`;
    return ((await import(url)) as { Tollgate: ModuleClass }).Tollgate;
  };
  /**
   * `deployToStaging` as `dagger call deploy-to-staging` runs it: inside a connection to the session
   * (the module runtime's entrypoint sets the SDK's global client the same way), the caller's
   * --source uploaded from the host.
   */
  const deployToStaging = async (address?: string, revision?: string): Promise<string> => {
    const { connection, dag } = await import('@dagger.io/dagger');
    let ref = '';
    await connection(async () => {
      const source = dag.host().directory(join(dir, 'app'));
      ref = await new Tollgate().deployToStaging(source, address, revision);
    });
    return ref;
  };

  before(async () => {
    mkdirSync(join(root, 'dist'), { recursive: true });
    dir = mkdtempSync(join(root, 'dist', 'dagger-module-'));
    mkdirSync(join(dir, 'app'));
    compileModule(dir);
    // One session for the file: the SDK's `dag` connects once and keeps that connection.
    session = await fakeDagger.start([
      {
        when: 'publish',
        // A registry answers with the digest; the `:undigested` tag plays one that does not.
        reply: (query) => {
          const address = addressOf(query);
          return { value: address.endsWith(':undigested') ? address : `${address}@${PUSHED}` };
        },
      },
    ]);
    restoreEnv = useSession(session);
  });
  after(async () => {
    restoreEnv();
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => session.queries.splice(0));

  void it("deploy-to-staging publishes to the environments' registry, tagged by revision, and returns the pinned digest", async () => {
    Tollgate = await load('127.0.0.1:5000/saas-app');
    const revision = '0123456789abcdef0123456789abcdef01234567';
    const ref = await deployToStaging(undefined, revision);
    assert.equal(ref, `127.0.0.1:5000/saas-app:0123456789ab@${PUSHED}`);
    const publish = session.queries.find((q) => q.includes('publish'));
    assert.ok(publish, 'the image was published');
    // The build steps ran first (each step's output read), then the published runtime image took the
    // build's files and installed production dependencies only.
    assert.ok(
      session.queries.some((q) => /withExec \(args: \["npm","run","build"\]\) \{ combinedOutput/.test(q)),
    );
    assert.match(publish, /withDirectory \(path: "\/app",source: "[^"]+",include: \["dist"/);
    assert.match(publish, /withExec \(args: \["npm","ci","--omit=dev"\]\)/);
    assert.ok(publish.includes(`value: "${revision}"`), 'labelled with the revision');
  });

  void it('deploy-to-staging --address publishes exactly there', async () => {
    Tollgate = await load('127.0.0.1:5000/saas-app');
    const ref = await deployToStaging('127.0.0.1:5000/elsewhere:staging');
    assert.match(ref, /^127\.0\.0\.1:5000\/elsewhere:staging@sha256:[0-9a-f]{64}$/);
  });

  void it('deploy-to-staging without --address or docker.registry says which to set, before building anything', async () => {
    Tollgate = await load();
    await assert.rejects(
      deployToStaging(),
      /no --address, and no docker environment in the config names docker\.registry: pass --address=/,
    );
    assert.ok(!session.queries.some((q) => q.includes('withExec')), 'nothing was built');
  });

  void it('deploy-to-staging refuses a registry answer without a digest', async () => {
    Tollgate = await load('127.0.0.1:5000/saas-app');
    await assert.rejects(
      deployToStaging('127.0.0.1:5000/saas-app:undigested'),
      /answered "127\.0\.0\.1:5000\/saas-app:undigested", not a reference pinned by digest/,
    );
  });
});

/** The `address` argument of a query's publish call. */
function addressOf(query: string): string {
  const match = /publish \(address: "([^"]+)"/.exec(query);
  assert.ok(match, `a publish query: ${query}`);
  return match[1]!;
}
