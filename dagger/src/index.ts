/**
 * Tollgate's stages as Dagger functions, from the same plans the workflow runs (plans.json, written
 * by `tollgate plans` from the config): `stage --name` runs any stage of any app's config, `build`
 * makes the image of the stage with the artifact, `full-ci-pipeline` runs the config's stage graph.
 * The named functions (quick-health-check, …) are the bundled sample app's stages.
 *
 * @example
 * dagger call stage --name=test-suite --source=.
 * dagger call build --source=. export --path=image.oci.tar
 * dagger call full-ci-pipeline --source=.
 * dagger call deploy-to-staging --source=. --address=127.0.0.1:5000/saas-app:staging
 */
import { argument, func, object, type Container, type Directory, type Secret } from '@dagger.io/dagger';
import { runInGraphOrder } from './dagger-plan.js';
import { publishPinned, releaseAddress } from './dagger-publish.js';
import { stagePlan, stagePlans, type ModuleStagePlan } from './plans.js';
import { runSteps, runtimeImage, stageContainer } from './stage.js';

// Pre-call filtering, as the runner's exclude list: never upload installs, VCS data, state or old builds.
const IGNORE = ['**/node_modules', '.git', '**/.tollgate', '**/dist'];

/** The release pipeline's command stages. */
@object()
export class Tollgate {
  /** Any command stage of the config, by name; returns its output. */
  @func()
  async stage(
    name: string,
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    secretEnv?: Secret,
  ): Promise<string> {
    return this.runStage(stagePlan(name), source, secretEnv);
  }

  /**
   * The image of the stage with the artifact (the build); chain `export --path=...` or
   * `publish --address=...`, or `directory --path=/app export --path=...` for the release's files.
   */
  @func()
  async build(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    revision = 'unknown',
    secretEnv?: Secret,
  ): Promise<Container> {
    return this.image(artifactStage(), source, revision, secretEnv);
  }

  /** The app's health command and the readiness of what it depends on. */
  @func()
  async quickHealthCheck(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    secretEnv?: Secret,
  ): Promise<string> {
    return this.stage('quick-health-check', source, secretEnv);
  }

  /** The app's tests, with the config's coverage gate. */
  @func()
  async testSuite(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    secretEnv?: Secret,
  ): Promise<string> {
    return this.stage('test-suite', source, secretEnv);
  }

  /** Payment flows against stripe-mock or a Stripe test key (never a live key). */
  @func()
  async testStripeIntegration(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    secretEnv?: Secret,
  ): Promise<string> {
    return this.stage('test-stripe-integration', source, secretEnv);
  }

  /** Retrieval quality against the golden set. */
  @func()
  async testRagEngine(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    secretEnv?: Secret,
  ): Promise<string> {
    return this.stage('test-rag-engine', source, secretEnv);
  }

  /** The revenue tracker counts what it is sent. */
  @func()
  async verifyRevenueMetrics(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    secretEnv?: Secret,
  ): Promise<string> {
    return this.stage('verify-revenue-metrics', source, secretEnv);
  }

  /**
   * The multi-stage production image; chain `export --path=...` or `publish --address=...`, or
   * `directory --path=/app export --path=...` for the files the release tarball holds.
   */
  @func()
  async buildProductionImage(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    revision = 'unknown',
    secretEnv?: Secret,
  ): Promise<Container> {
    return this.image(stagePlan('build-production-image'), source, revision, secretEnv);
  }

  /**
   * The staging deploy's Dagger half: builds the release's image, publishes it to `address` (by
   * default the repository the config's docker environments pull from, `docker.registry`, tagged
   * with `revision`) and returns the reference pinned by digest. A docker environment deploys exactly
   * that digest: Tollgate's worker hands it to the environment (the build's `image.ref`), or pass it
   * on yourself. A module cannot reach the environment's supervisor, so switching traffic stays with
   * Tollgate's proxy.
   *
   * @example dagger call deploy-to-staging --source=. --revision=$(git rev-parse HEAD)
   * @example dagger call deploy-to-staging --source=. --address=127.0.0.1:5000/saas-app:staging
   */
  @func()
  async deployToStaging(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    address?: string,
    revision = 'unknown',
    secretEnv?: Secret,
  ): Promise<string> {
    const plan = artifactStage();
    const target = address ?? defaultAddress(plan, revision);
    return publishPinned(await this.image(plan, source, revision, secretEnv), target);
  }

  /**
   * Every command stage of the config, each started once the stages it needs have passed (so
   * independent ones run at the same time), the artifact stage as its image; returns a summary.
   * The first failure fails the call.
   */
  @func()
  async fullCiPipeline(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    revision = 'unknown',
    secretEnv?: Secret,
  ): Promise<string> {
    return (
      await runInGraphOrder(stagePlans().stages, async (name) => {
        const plan = stagePlan(name);
        if (!plan.artifact) {
          await this.runStage(plan, source, secretEnv);
          return `${name}: passed`;
        }
        const image = await (await this.image(plan, source, revision, secretEnv)).sync();
        return `${name}: passed (${(await image.id()).slice(0, 24)}...)`;
      })
    ).join('\n');
  }

  private async runStage(plan: ModuleStagePlan, source: Directory, secretEnv?: Secret): Promise<string> {
    const { output } = await runSteps(plan, await stageContainer(plan, appSource(source), secretEnv));
    return output;
  }

  private async image(
    plan: ModuleStagePlan,
    source: Directory,
    revision: string,
    secretEnv?: Secret,
  ): Promise<Container> {
    const build = await runSteps(plan, await stageContainer(plan, appSource(source), secretEnv));
    return runtimeImage(plan, build.container, revision);
  }
}

/** The config's stage with an artifact: what `build` makes an image of. */
function artifactStage(): ModuleStagePlan {
  const plan = stagePlans().stages.find((stage) => stage.artifact);
  if (!plan)
    throw new Error(
      'no stage in dagger/plans.json has an artifact: add artifact: { include: [...] } to the build stage',
    );
  return plan;
}

/** Where deploy-to-staging publishes without --address: the environments' repository, tagged as the runner tags it. */
function defaultAddress(plan: ModuleStagePlan, revision: string): string {
  if (!plan.artifact?.publishTo)
    throw new Error(
      'deploy-to-staging: no --address, and no docker environment in the config names docker.registry: ' +
        'pass --address=<registry>/<repository>:<tag>, or set docker.registry and run `tollgate plans > dagger/plans.json`',
    );
  return releaseAddress(plan.artifact.publishTo, revision);
}

/** The app's directory inside the repository the caller passed. */
function appSource(repository: Directory): Directory {
  const { source } = stagePlans();
  return source === '.' ? repository : repository.directory(source);
}
