/**
 * What a stage's container needs besides its steps, as data: the dependency install, the
 * package-manager caches, the env (services' and the stage's). Dependency-free on purpose: the Dagger
 * runner uses it, and dagger/src/dagger-plan.ts is a byte copy of it (a contract test checks), so
 * `dagger call` and the workflow build the same containers.
 */

/** Lockfiles (or manifests) at the source root and the install command each implies, first match wins. */
const INSTALLERS: [file: string, argv: string[]][] = [
  ['package-lock.json', ['npm', 'ci', '--no-audit', '--no-fund', '--prefer-offline']],
  ['npm-shrinkwrap.json', ['npm', 'ci', '--no-audit', '--no-fund', '--prefer-offline']],
  ['pnpm-lock.yaml', ['pnpm', 'install', '--frozen-lockfile']],
  ['yarn.lock', ['yarn', 'install', '--frozen-lockfile']],
  ['package.json', ['npm', 'install', '--no-audit', '--no-fund', '--prefer-offline']],
];

/** Package-manager caches by the command that uses them: [mount path, cache volume key]. */
const CACHES: Record<string, [string, string]> = {
  npm: ['/root/.npm', 'tollgate-npm'],
  npx: ['/root/.npm', 'tollgate-npm'],
  pnpm: ['/root/.local/share/pnpm/store', 'tollgate-pnpm'],
  yarn: ['/usr/local/share/.cache/yarn', 'tollgate-yarn'],
};

/** The root files installCommand looks at; callers list which of these exist. */
export const MANIFEST_FILES: string[] = INSTALLERS.map(([file]) => file);

const INSTALL_VERBS = new Set(['ci', 'install', 'i', 'add']);

/** True for a step that installs dependencies itself (`npm ci`, `npm install`, `pnpm install`, `yarn`). */
export function isInstallStep(argv: string[]): boolean {
  const [tool, verb] = argv;
  if (tool === 'yarn') return verb === undefined || verb.startsWith('-') || INSTALL_VERBS.has(verb);
  return (tool === 'npm' || tool === 'pnpm') && verb !== undefined && INSTALL_VERBS.has(verb);
}

/**
 * The install command a stage's container needs before its steps, or undefined when it needs none:
 * the source has no package manifest, or the stage installs dependencies itself (quick-health-check's
 * `npm install`). `rootFiles` are the names of the files at the source root.
 */
export function installCommand(steps: { run: string[] }[], rootFiles: string[]): string[] | undefined {
  if (steps.some((step) => isInstallStep(step.run))) return undefined;
  const found = INSTALLERS.find(([file]) => rootFiles.includes(file));
  return found ? [...found[1]] : undefined;
}

/** The cache mounts a list of commands needs (npm by default: stage images are Node images). */
export function cacheMounts(commands: string[][]): [path: string, key: string][] {
  const mounts = new Map<string, string>();
  for (const argv of commands) {
    const cache = CACHES[argv[0] ?? ''];
    if (cache) mounts.set(cache[0], cache[1]);
  }
  if (mounts.size === 0) mounts.set(...(CACHES['npm'] as [string, string]));
  return [...mounts];
}

/**
 * Which caches to mount before the install (the shared prefix: the install's own caches only, so
 * every stage with the same image and source builds the identical chain) and which after it (what
 * the stage's steps need besides).
 */
export function cachePlan(
  install: string[] | undefined,
  steps: { run: string[] }[],
): { beforeInstall: [string, string][]; afterInstall: [string, string][] } {
  const stepCaches = cacheMounts(steps.map((step) => step.run));
  if (!install) return { beforeInstall: stepCaches, afterInstall: [] };
  const beforeInstall = cacheMounts([install]);
  const mounted = new Set(beforeInstall.map(([path]) => path));
  return { beforeInstall, afterInstall: stepCaches.filter(([path]) => !mounted.has(path)) };
}

/**
 * The stage's env in a container: its services' env (how to reach them), then its own env, which
 * wins on a clash because it applies on the host too.
 */
export function containerEnv(plan: {
  env: Record<string, string>;
  services?: { env: Record<string, string> }[];
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of plan.services ?? []) Object.assign(env, service.env);
  return Object.assign(env, plan.env);
}

/**
 * Runs every stage once, each as soon as the stages it `needs` have finished, so independent ones
 * run at the same time; resolves with `run`'s results in the order the stages finished. The first
 * failure rejects (the others already started are not waited for). Assumes a valid graph (the
 * config loader refused unknown needs and cycles before plans.json was written).
 */
export async function runInGraphOrder<T>(
  stages: readonly { name: string; needs: readonly string[] }[],
  run: (name: string) => Promise<T>,
): Promise<T[]> {
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  const started = new Map<string, Promise<void>>();
  const finished: T[] = [];
  const start = (name: string): Promise<void> => {
    let running = started.get(name);
    if (!running) {
      const stage = byName.get(name);
      if (!stage) return Promise.reject(new Error(`no stage ${name} in the plans: regenerate them`));
      running = Promise.all(stage.needs.map(start)).then(async () => {
        finished.push(await run(name));
      });
      started.set(name, running);
    }
    return running;
  };
  await Promise.all(stages.map((stage) => start(stage.name)));
  return finished;
}
