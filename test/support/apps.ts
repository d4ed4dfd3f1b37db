/**
 * A small app of a user's own, as a new user brings it: a Node HTTP service with no dependencies in
 * its own git repository, with a test, a build and (optionally) a Tollgate config. Releases of it
 * take seconds, so the source and onboarding tests can release many commits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliResult } from './cli.js';
import { fixtureRepo, gitIn } from './stages.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ROOT, temporalEnv, tempDir, uniqueIds } from './temporal.js';

/** The service: /healthz, /readyz, and /whoami answering the app's name and the VERSION it was built from. */
const SERVER = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
const app = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).name;
createServer((req, res) => {
  if (req.url === '/healthz' || req.url === '/readyz') return res.end('ok');
  if (req.url === '/whoami') return res.end(JSON.stringify({ app, version }));
  res.statusCode = 404;
  res.end('not found');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Files of the app at `version`: a package.json, the server, a passing test, a build script. */
export function appFiles(name: string, version: string): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        version: '1.0.0',
        type: 'module',
        scripts: { test: 'node --test', build: 'node build.js', start: 'node dist/server.js' },
      },
      null,
      2,
    )}\n`,
    'package-lock.json': `${JSON.stringify({ name, version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name, version: '1.0.0' } } }, null, 2)}\n`,
    '.gitignore': 'node_modules/\ndist/\n',
    VERSION: `${version}\n`,
    'src/server.js': SERVER,
    'build.js':
      "import { cpSync, mkdirSync } from 'node:fs';\nmkdirSync('dist', { recursive: true });\ncpSync('src/server.js', 'dist/server.js');\ncpSync('VERSION', 'dist/VERSION');\n",
    'test/version.test.js':
      "import assert from 'node:assert/strict';\nimport { readFileSync } from 'node:fs';\nimport { it } from 'node:test';\nit('has a version', () => assert.ok(readFileSync('VERSION', 'utf8').trim()));\n",
  };
}

/** A Tollgate config for the app: test, build with its artifact, staging then production (auto gates, a short window). */
export function appConfig(
  name: string,
  ports: { staging: number; production: number },
  outFile: string,
): string {
  return `export default {
  app: '${name}',
  runner: 'host',
  stages: {
    // Records which VERSION the stage saw, outside the checkout: the test reads it.
    test: { steps: [['npm', 'test'], ['sh', '-c', 'cat VERSION >> "$OUT"']], env: { OUT: ${JSON.stringify(outFile)} } },
    build: { steps: [['npm', 'run', 'build']], artifact: { include: ['dist', 'package.json'], install: ['true'], sbom: ['sh', '-c', 'echo {}'] } },
  },
  environments: [
    { name: 'staging', port: ${ports.staging}, start: ['node', 'dist/server.js'], smoke: { routes: ['/whoami'] } },
    {
      name: 'production',
      port: ${ports.production},
      start: ['node', 'dist/server.js'],
      promotion: { mode: 'auto' },
      verification: { duration: '1s', interval: '500ms' },
    },
  ],
};
`;
}

/** Makes the app's repository at `dir` with its config and first commit (VERSION `version`); returns the commit. */
export function appRepo(
  dir: string,
  name: string,
  ports: { staging: number; production: number },
  outFile: string,
  version = 'v1',
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tollgate.config.ts'), appConfig(name, ports, outFile));
  return fixtureRepo(dir, appFiles(name, version)).commit;
}

/** Commits VERSION `version` (and `extra` files) on top; returns the commit. */
export function commitVersion(dir: string, version: string, extra: Record<string, string> = {}): string {
  return fixtureRepo(dir, { VERSION: `${version}\n`, ...extra }).commit;
}

/** `git status --porcelain` of the working tree, untracked files included. */
export function workingTreeStatus(dir: string): string {
  return gitIn(dir, 'status', '--porcelain', '--untracked-files=all');
}

/** A worker process with a home and task queue of its own, and the CLI that talks to it. */
export interface Site {
  dir: string;
  home: string;
  worker: ChildProcess;
  cli: (...args: string[]) => Promise<CliResult>;
}

/** Starts a worker (dist/src/worker.js, host runner) for the test's server and namespace; the caller kills it. */
export function startSite(env: TestWorkflowEnvironment, label: string): Site {
  const dir = tempDir(label);
  const home = join(dir, 'home');
  const { taskQueue } = uniqueIds(label);
  const processEnv = {
    ...process.env,
    ...temporalEnv(env),
    TOLLGATE_HOME: home,
    TOLLGATE_TASK_QUEUE: taskQueue,
    TOLLGATE_RUNNER: 'host',
  };
  const worker = spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
    cwd: ROOT,
    env: processEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { dir, home, worker, cli: (...args) => runCli(args, processEnv) };
}
