/**
 * Tollgate's stages as Dagger functions, from the same plans the workflow runs (plans.json).
 *
 * @example
 * dagger call test-suite --source=.
 * dagger call build-production-image --source=. export --path=image.oci.tar
 */
import { argument, func, object, type Container, type Directory, type Secret } from '@dagger.io/dagger';
import { stagePlan, stagePlans } from './plans.js';
import { runSteps, runtimeImage, stageContainer } from './stage.js';

// Pre-call filtering, as the runner's exclude list: never upload installs, VCS data, state or old builds.
const IGNORE = ['**/node_modules', '.git', '**/.tollgate', '**/dist'];

/** The release pipeline's command stages. */
@object()
export class Tollgate {
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
    const plan = stagePlan('build-production-image');
    const build = await runSteps(plan, await stageContainer(plan, appSource(source), secretEnv));
    return runtimeImage(plan, build.container, revision);
  }

  /** Every command stage in pipeline order, the revenue gates in parallel; returns a summary. */
  @func()
  async fullCiPipeline(
    @argument({ defaultPath: '/', ignore: IGNORE }) source: Directory,
    revision = 'unknown',
    secretEnv?: Secret,
  ): Promise<string> {
    const lines: string[] = [];
    await this.stage('quick-health-check', source, secretEnv);
    lines.push('quick-health-check: passed');
    await this.stage('test-suite', source, secretEnv);
    lines.push('test-suite: passed');
    const gates = ['test-stripe-integration', 'test-rag-engine', 'verify-revenue-metrics'];
    await Promise.all(gates.map((name) => this.stage(name, source, secretEnv)));
    lines.push(...gates.map((name) => `${name}: passed`));
    const image = await (await this.buildProductionImage(source, revision, secretEnv)).sync();
    lines.push(`build-production-image: passed (${(await image.id()).slice(0, 24)}...)`);
    return lines.join('\n');
  }

  private async stage(name: string, source: Directory, secretEnv?: Secret): Promise<string> {
    const plan = stagePlan(name);
    const { output } = await runSteps(plan, await stageContainer(plan, appSource(source), secretEnv));
    return output;
  }
}

/** The app's directory inside the repository the caller passed. */
function appSource(repository: Directory): Directory {
  const { source } = stagePlans();
  return source === '.' ? repository : repository.directory(source);
}
