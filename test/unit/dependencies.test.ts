/**
 * Dependencies restored from the store on real files: keys first, the folder only when a stage asks;
 * hard links to the store except the files tools rewrite in place; parallel stages bring it in once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it, type TestContext } from 'node:test';
import { importDependencies, planDependencies, storeDependency } from '../../src/source/dependencies.js';
import type { DependencyPlan } from '../../src/types.js';

const PLAN: DependencyPlan = { path: 'node_modules', key: ['package-lock.json'] };

function setup(t: TestContext): {
  store: string;
  app: string;
  fresh: () => { root: string; appDir: string };
} {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tollgate-deps-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const app = join(dir, 'installed');
  mkdirSync(join(app, 'node_modules/left-pad'), { recursive: true });
  writeFileSync(join(app, 'package-lock.json'), '{"lockfileVersion":3}\n');
  writeFileSync(join(app, 'node_modules/left-pad/index.js'), 'module.exports = 1;\n');
  writeFileSync(join(app, 'node_modules/.package-lock.json'), '{}\n');
  let n = 0;
  return {
    store: join(dir, 'store'),
    app,
    fresh: () => {
      const root = join(dir, `ws-${++n}`);
      mkdirSync(root);
      writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
      return { root, appDir: root };
    },
  };
}

it('keys at checkout, the folder when a stage asks: files linked to the store, the hidden lockfile copied', async (t) => {
  const { store, app, fresh } = setup(t);
  assert.equal(await storeDependency(store, 'app', app, PLAN), true);
  const ws = fresh();
  const [state] = planDependencies(ws, [PLAN]);
  assert.equal(state?.restored, false);
  assert.throws(() => statSync(join(ws.appDir, 'node_modules')), 'nothing is copied at checkout');

  assert.deepEqual(await importDependencies(store, 'app', ws, [PLAN]), ['node_modules']);
  const linked = statSync(join(ws.appDir, 'node_modules/left-pad/index.js'));
  assert.equal(linked.nlink, 2, 'a hard link to the stored file');
  const hidden = statSync(join(ws.appDir, 'node_modules/.package-lock.json'));
  assert.equal(hidden.nlink, 1, "npm's hidden lockfile is a copy of its own");
  writeFileSync(join(ws.appDir, 'node_modules/.package-lock.json'), '{"rewritten":true}\n');
  const entry = join(store, 'app', `node_modules-${state.key.slice(0, 24)}`);
  assert.equal(readFileSync(join(entry, '.package-lock.json'), 'utf8'), '{}\n', 'the store is unchanged');
  assert.deepEqual(await importDependencies(store, 'app', ws, [PLAN]), [], 'there already: nothing to do');
});

it('parallel stages of one run bring the folder in once', async (t) => {
  const { store, app, fresh } = setup(t);
  await storeDependency(store, 'app', app, PLAN);
  const ws = fresh();
  planDependencies(ws, [PLAN]);
  const results = await Promise.all([1, 2, 3].map(() => importDependencies(store, 'app', ws, [PLAN])));
  assert.deepEqual(results.flat(), ['node_modules']);
  assert.equal(
    readFileSync(join(ws.appDir, 'node_modules/left-pad/index.js'), 'utf8'),
    'module.exports = 1;\n',
  );
});

it('a lockfile the store has no entry for brings nothing in', async (t) => {
  const { store, app, fresh } = setup(t);
  await storeDependency(store, 'app', app, PLAN);
  const ws = fresh();
  writeFileSync(join(ws.appDir, 'package-lock.json'), '{"lockfileVersion":3,"changed":true}\n');
  planDependencies(ws, [PLAN]);
  assert.deepEqual(await importDependencies(store, 'app', ws, [PLAN]), []);
});
