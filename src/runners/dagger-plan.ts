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

/** What a stage's container runs before its source arrives, and the steps that run after. */
export interface InstallSplit<T> {
  /** The dependency install, run on the manifest files alone (see MANIFEST_FILES); none: nothing to install. */
  install?: string[];
  /** The stage's steps that run on the whole source. */
  steps: T[];
}

/**
 * The dependency install a stage's container needs, run before the source is copied in so that it
 * depends on the manifest and lockfile only (a one-line source change does not reinstall). A stage
 * whose first step installs (quick-health-check's `npm install`) has that step moved there; a stage
 * that installs later keeps its steps as they are; otherwise the lockfile picks the installer. No
 * manifest, no install. `rootFiles` are the names of the files at the source root.
 */
export function splitInstall<T extends { run: string[]; env?: Record<string, string> }>(
  steps: T[],
  rootFiles: string[],
): InstallSplit<T> {
  const [first, ...rest] = steps;
  const hasManifest = INSTALLERS.some(([file]) => rootFiles.includes(file));
  if (first && isInstallStep(first.run) && Object.keys(first.env ?? {}).length === 0 && hasManifest)
    return { install: [...first.run], steps: rest };
  if (steps.some((step) => isInstallStep(step.run))) return { steps };
  const found = INSTALLERS.find(([file]) => rootFiles.includes(file));
  return found ? { install: [...found[1]], steps } : { steps };
}

/** The root files the install may read: the manifests and lockfiles of MANIFEST_FILES, and `.npmrc`. */
export const INSTALL_INPUT_FILES: string[] = [...MANIFEST_FILES, '.npmrc'];

/** The install's files among those at the root (see INSTALL_INPUT_FILES). */
export function installInputs(rootFiles: string[]): string[] {
  return INSTALL_INPUT_FILES.filter((file) => rootFiles.includes(file));
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

// Official images that publish a `<tag>-slim` variant; for any other image the build image is reused.
const SLIM_FAMILIES = new Set(['node', 'python', 'ruby', 'debian']);

/** `node:20` → `node:20-slim`; images without a known slim variant (or pinned by digest) stay as they are. */
export function slimVariant(image: string): string {
  if (image.includes('@')) return image;
  const slash = image.lastIndexOf('/');
  const colon = image.indexOf(':', slash + 1);
  const repository = colon < 0 ? image : image.slice(0, colon);
  const tag = colon < 0 ? 'latest' : image.slice(colon + 1);
  const family = repository.replace(/^(docker\.io\/)?(library\/)?/, '');
  if (!SLIM_FAMILIES.has(family) || /slim|alpine/.test(tag)) return image;
  return tag === 'latest' ? `${repository}:slim` : `${repository}:${tag}-slim`;
}
