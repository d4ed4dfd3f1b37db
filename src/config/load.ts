/** Loads tollgate.config.ts once, validates it, and turns it into what the workflow takes. */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import type { z } from 'zod';
import { SourceError } from '../source/errors.js';
import { isRepositoryUrl } from '../source/git.js';
import { locateSource, type SourceLocation } from '../source/revision.js';
import type {
  CanaryPlan,
  DependencyPlan,
  EnvironmentLink,
  ImagesPlan,
  NotificationPlan,
  RetryPlan,
  RevenuePlan,
  RollbackBrakePlan,
  StagePlan,
} from '../types.js';
import { verdictPlan } from '../verification/index.js';
import { slimVariant } from '../runners/dagger-plan.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { configSchema, graphOf, type TollgateConfig } from './schema.js';

/** This copy's `defineTollgate` module, which configs import as `tollgate/config`. */
const DEFINE_MODULE = fileURLToPath(new URL('./define.js', import.meta.url));

/** The file the CLI looks for when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = 'tollgate.config.ts';

/** A validated config with its repository located and stages and environments turned into plans. */
export interface ResolvedConfig {
  configPath: string;
  app: string;
  /** The app's repository, its folder in it, and the local clone revisions are resolved in. */
  location: SourceLocation;
  /** The app's folder in the local clone (for `tollgate stage` and commit times), when there is one. */
  localDir?: string;
  runner: TollgateConfig['runner'];
  /** Command stages in config order, each with its needs resolved. */
  stages: StagePlan[];
  /** The environment chain in order. */
  environments: EnvironmentLink[];
  dependencies: DependencyPlan[];
  /** The images a release uses besides its stages' own (see ImagesPlan). */
  images: ImagesPlan;
  revenue?: RevenuePlan;
  /** The daily health workflow's schedule and limits. */
  health: HealthPlan;
  /** The webhook's secret name and events; the client adds the UI's address (settings) to each run's plan. */
  notifications?: NotificationPlan;
  /** The lane's brake on automatic rollbacks; absent when the config turns it off. */
  rollbackBrake?: RollbackBrakePlan;
  raw: TollgateConfig;
}

/** The `health` section, resolved. */
export interface HealthPlan {
  schedule: { cron: string; timezone: string };
  revenueMaxAgeMs: number;
  /** The command stage the daily health workflow runs, when the config names one. */
  stage?: string;
}

/** Reads, validates and resolves a config file. Throws ConfigError naming every problem. */
export async function loadConfig(file = DEFAULT_CONFIG_FILE, cwd = process.cwd()): Promise<ResolvedConfig> {
  const configPath = resolve(cwd, file);
  const shown = relative(cwd, configPath) || configPath;
  if (!existsSync(configPath)) {
    throw new ConfigError(shown, [
      {
        path: '',
        message: `no config file at ${configPath}: create one with \`tollgate init\` (or defineTollgate({...})), or pass --config <file>`,
      },
    ]);
  }
  let loaded: unknown;
  try {
    // `tollgate/config` is this copy of Tollgate, installed in the app or not (npx, a global install):
    // defineTollgate() only returns the object, and this copy validates it.
    const jiti = createJiti(import.meta.url, {
      moduleCache: false,
      fsCache: false,
      alias: { 'tollgate/config': DEFINE_MODULE },
    });
    loaded = await jiti.import(configPath, { default: true });
  } catch (error) {
    throw new ConfigError(shown, [
      {
        path: '',
        message: `could not be loaded (${error instanceof Error ? error.message : String(error)}): fix the file so it imports on its own and ends with export default defineTollgate({...})`,
      },
    ]);
  }
  return resolveConfig(loaded, configPath, shown);
}

/** Validates an already-loaded config object; `configPath` anchors relative paths and the default repository. */
export async function resolveConfig(
  input: unknown,
  configPath: string,
  shown = configPath,
): Promise<ResolvedConfig> {
  const parsed = configSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new ConfigError(shown, toProblems(parsed.error, input));
  const config = parsed.data;

  const location = await locateSource(dirname(configPath), config.repository, config.source).catch(
    (error: unknown) => {
      if (!(error instanceof SourceError)) throw error;
      throw new ConfigError(shown, [
        {
          path: config.repository === undefined ? 'source' : 'repository',
          message: error.message,
          received: JSON.stringify(config.repository ?? config.source),
        },
      ]);
    },
  );
  const inClone = location.local?.worktree ? resolve(location.local.dir, location.subdir) : undefined;
  const localDir = inClone && existsSync(inClone) ? inClone : undefined;
  if (inClone && !localDir && !isRepositoryUrl(location.repository)) {
    throw new ConfigError(shown, [
      {
        path: 'source',
        message: `is not a folder of the repository (${inClone}): point it at the app's folder`,
        received: JSON.stringify(config.source),
      },
    ]);
  }
  const revenue = config.revenue ? { ...config.revenue } : undefined;
  return {
    configPath,
    app: config.app,
    location,
    ...(localDir ? { localDir } : {}),
    runner: config.runner,
    stages: toPlans(config),
    environments: toLinks(config),
    dependencies: config.dependencies.map((d) => ({ path: d.path, key: [...d.key] })),
    images: { ...config.images },
    ...(revenue ? { revenue } : {}),
    ...(config.rollbackBrake
      ? { rollbackBrake: { limit: config.rollbackBrake.limit, windowMs: config.rollbackBrake.window } }
      : {}),
    health: {
      schedule: { ...config.health.schedule },
      revenueMaxAgeMs: config.health.revenueMaxAge,
      ...(config.health.stage ? { stage: config.health.stage } : {}),
    },
    ...(config.notifications?.webhook
      ? {
          notifications: {
            webhook: {
              urlSecret: config.notifications.webhook.urlSecret,
              events: [...config.notifications.webhook.events],
            },
          },
        }
      : {}),
    raw: config,
  };
}

function toPlans(config: TollgateConfig): StagePlan[] {
  const needs = new Map(graphOf(config.stages).map((s) => [s.name, s.needs]));
  // One repository at most (the schema refuses two): where the Dagger build publishes the release's image.
  const registry = config.environments.find((env) => env.docker?.registry)?.docker?.registry;
  return Object.entries(config.stages).map(([name, stage]) => {
    const retry = { ...config.defaults.retry, ...stage.retry };
    return {
      name,
      needs: needs.get(name) ?? [],
      image: stage.image ?? config.defaults.image,
      steps: stage.steps.map((step) => (Array.isArray(step) ? { run: step, env: {} } : step)),
      env: stage.env,
      secrets: stage.secrets,
      cache: stage.cache !== false,
      // A stage with secrets may depend on their values, which the key never holds, and the health
      // stage checks the world as it is now: either is cached only when the config says so.
      cacheResult: stage.cache ?? (stage.secrets.length === 0 && name !== config.health.stage),
      load: stage.load,
      timeoutMs: stage.timeout ?? config.defaults.timeout,
      retry: toRetryPlan(retry),
      retryableExitCodes: stage.retryableExitCodes,
      ...(stage.coverageMinimum === undefined ? {} : { coverageMinimum: stage.coverageMinimum }),
      ...(stage.artifact
        ? {
            artifact: {
              ...stage.artifact,
              runtimeImage: config.images.runtime ?? slimVariant(stage.image ?? config.defaults.image),
              scanImage: config.images.scanner,
              ...(registry ? { publishTo: registry } : {}),
            },
          }
        : {}),
      ...(stage.services ? { services: stage.services } : {}),
    };
  });
}

function toRetryPlan(retry: TollgateConfig['defaults']['retry']): RetryPlan {
  return {
    initialIntervalMs: retry.initialInterval,
    backoffCoefficient: retry.backoffCoefficient,
    maximumIntervalMs: retry.maximumInterval,
    maximumAttempts: retry.maximumAttempts,
  };
}

/** The chain: the gate before the last environment (production) is manual unless the config says otherwise. */
function toLinks(config: TollgateConfig): EnvironmentLink[] {
  const count = config.environments.length;
  return config.environments.map((env, index): EnvironmentLink => {
    const { promotion, smoke, verification, canary, loadTest, ...plan } = env;
    const routes = smoke?.routes.length ? smoke.routes : [plan.healthPath];
    const last = index === count - 1;
    return {
      environment: { app: config.app, ...plan },
      promotion: {
        mode: promotion?.mode ?? (last ? 'manual' : 'auto'),
        approvers: promotion?.approvers ?? [],
        timeoutMs: promotion?.timeout ?? 3_600_000,
        onTimeout: promotion?.onTimeout ?? 'rollback',
      },
      ...(smoke
        ? {
            smoke: {
              routes: smoke.routes,
              revenueEvents: smoke.revenueEvents ?? config.revenue !== undefined,
            },
          }
        : {}),
      ...(canary ? { canary: toCanary(canary, routes, config.revenue) } : {}),
      ...(loadTest
        ? {
            loadTest: {
              ratePerSecond: loadTest.rate,
              durationMs: loadTest.duration,
              connections: loadTest.connections,
              routes: loadTest.routes ?? routes,
              maxP95LatencyMs: loadTest.maxP95LatencyMs,
              maxErrorRate: loadTest.maxErrorRate,
            },
          }
        : {}),
      ...(verification
        ? {
            verification: {
              durationMs: verification.duration,
              intervalMs: verification.interval,
              maxErrorRate: verification.maxErrorRate,
              maxP95LatencyMs: verification.maxP95LatencyMs,
            },
          }
        : {}),
    };
  });
}

/** A canary block as the workflow takes it: the 100 % step is the switch itself, the verdict plan complete. */
function toCanary(
  canary: NonNullable<TollgateConfig['environments'][number]['canary']>,
  defaultRoutes: string[],
  revenue: RevenuePlan | undefined,
): CanaryPlan {
  const { header, cookie } = canary.sticky;
  return {
    steps: canary.steps.filter((weight) => weight < 100),
    stepMinMs: canary.stepDuration,
    stepMaxMs: canary.maxStepDuration ?? canary.stepDuration * 5,
    intervalMs: canary.interval,
    unavailableMaxMs: canary.unavailableLimit,
    eventsPerRun: canary.eventsPerRun,
    sticky: { ...(header ? { header } : {}), ...(cookie ? { cookie } : {}) },
    verdict: verdictPlan({
      alpha: canary.alpha,
      beta: canary.beta,
      detectableRatio: canary.detectableRatio,
      errorCeiling: canary.errorCeiling,
      minRequestsPerStep: canary.minRequestsPerStep,
      negligibleRate: canary.negligibleRate,
      latencyFloorMs: canary.latencyFloorMs,
      onInconclusive: canary.onInconclusive,
      // Payments per release are the checkouts the proxy sees at checkoutPath.
      revenue: canary.checkoutPath !== undefined,
      ...(canary.limits ? { limits: { ...canary.limits } } : {}),
      external: canary.external.map(({ name, min, max }) => ({
        name,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
      })),
    }),
    external: canary.external.map(({ prometheus, ...signal }) => ({ ...signal, url: prometheus })),
    ...(canary.checkoutPath ? { checkoutPath: canary.checkoutPath } : {}),
    ...(canary.probes
      ? {
          probes: {
            ratePerSecond: canary.probes.rate,
            routes: canary.probes.routes ?? defaultRoutes,
            ...(canary.probes.payments && canary.checkoutPath && revenue
              ? {
                  payments: {
                    ratePerSecond: canary.probes.payments.rate,
                    amount: canary.probes.payments.amount,
                    currency: canary.probes.payments.currency,
                    checkoutPath: canary.checkoutPath,
                    webhookPath: revenue.webhookPath,
                    webhookSecret: revenue.webhookSecret,
                    stripeKeySecret: revenue.stripeKeySecret,
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}

function toProblems(error: z.ZodError, input: unknown): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    // Custom checks run on a parent object; the value at the issue's path is what the user wrote.
    // An unknown key's message names it; the parent object it sits in would only be noise.
    const value =
      issue.code === 'unrecognized_keys'
        ? undefined
        : issue.code !== 'custom' && 'input' in issue && issue.input !== undefined
          ? issue.input
          : valueAt(input, issue.path);
    // A secret written where its name belongs is not repeated in the error.
    const secret = issue.code === 'custom' && (issue.params as { secret?: boolean } | undefined)?.secret;
    return { path, message: issue.message, received: secret ? '(a secret; not shown)' : describe(value) };
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describe(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  if (text === undefined) return typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
