/** Loads tollgate.config.ts once, validates it, and turns it into what the workflow takes. */
import { existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { createJiti } from 'jiti';
import type { z } from 'zod';
import { COMMAND_STAGES, type StageName } from '../constants.js';
import type { DeliveryPlan, EnvironmentPlan, NotificationPlan, RetryPlan, StagePlan } from '../types.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { configSchema, type TollgateConfig } from './schema.js';

/** The file the CLI looks for when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = 'tollgate.config.ts';

/** A validated config with paths made absolute and stages turned into plans. */
export interface ResolvedConfig {
  configPath: string;
  app: string;
  sourceDir: string;
  runner: TollgateConfig['runner'];
  stages: StagePlan[];
  delivery?: DeliveryPlan;
  /** The daily health workflow's schedule and limits. */
  health: HealthPlan;
  /** The webhook's secret name and events; the client adds the UI's address (settings) to each run's plan. */
  notifications?: NotificationPlan;
  raw: TollgateConfig;
}

/** The `health` section, resolved. */
export interface HealthPlan {
  schedule: { cron: string; timezone: string };
  revenueMaxAgeMs: number;
  /** Name of the env var holding the Stripe secret key the daily check inspects. */
  stripeKeySecret: string;
}

/** Reads, validates and resolves a config file. Throws ConfigError naming every problem. */
export async function loadConfig(file = DEFAULT_CONFIG_FILE, cwd = process.cwd()): Promise<ResolvedConfig> {
  const configPath = resolve(cwd, file);
  const shown = relative(cwd, configPath) || configPath;
  if (!existsSync(configPath)) {
    throw new ConfigError(shown, [
      {
        path: '',
        message: `no config file at ${configPath}: create one with defineTollgate({...}) or pass --config <file>`,
      },
    ]);
  }
  let loaded: unknown;
  try {
    const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false });
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

/** Validates an already-loaded config object; `configPath` anchors relative paths. */
export function resolveConfig(input: unknown, configPath: string, shown = configPath): ResolvedConfig {
  const parsed = configSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new ConfigError(shown, toProblems(parsed.error, input));
  const config = parsed.data;

  const sourceDir = resolve(dirname(configPath), config.source);
  if (!existsSync(sourceDir) || !statSync(sourceDir).isDirectory()) {
    throw new ConfigError(shown, [
      {
        path: 'source',
        message: `is not a directory (${sourceDir}): point it at the app's source, relative to the config file`,
        received: JSON.stringify(config.source),
      },
    ]);
  }
  return {
    configPath,
    app: config.app,
    sourceDir,
    runner: config.runner,
    stages: toPlans(config),
    delivery: toDelivery(config, shown),
    health: {
      schedule: { ...config.health.schedule },
      revenueMaxAgeMs: config.health.revenueMaxAge,
      stripeKeySecret: config.health.stripeKeySecret,
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
  const plans: StagePlan[] = [];
  for (const name of COMMAND_STAGES) {
    const stage = config.stages[name];
    if (!stage) continue;
    const retry = { ...config.defaults.retry, ...stage.retry };
    plans.push({
      name,
      image: stage.image ?? config.defaults.image,
      steps: stage.steps.map((step) => (Array.isArray(step) ? { run: step, env: {} } : step)),
      env: stage.env,
      secrets: stage.secrets,
      cache: stage.cache,
      timeoutMs: stage.timeout ?? config.defaults.timeout,
      retry: toRetryPlan(retry),
      retryableExitCodes: stage.retryableExitCodes,
      ...(stage.coverageMinimum === undefined ? {} : { coverageMinimum: stage.coverageMinimum }),
      ...(stage.artifact ? { artifact: stage.artifact } : {}),
      ...(stage.services ? { services: stage.services } : {}),
    });
  }
  return plans;
}

function toRetryPlan(retry: TollgateConfig['defaults']['retry']): RetryPlan {
  return {
    initialIntervalMs: retry.initialInterval,
    backoffCoefficient: retry.backoffCoefficient,
    maximumIntervalMs: retry.maximumInterval,
    maximumAttempts: retry.maximumAttempts,
  };
}

function toDelivery(config: TollgateConfig, shown: string): DeliveryPlan | undefined {
  if (config.environments.length === 0) return undefined;
  const find = (name: string): EnvironmentPlan => {
    const env = config.environments.find((e) => e.name === name);
    if (!env) {
      throw new ConfigError(shown, [
        {
          path: 'environments',
          message: `needs an environment named "${name}": the pipeline deploys to "staging", then "production"`,
          received: JSON.stringify(config.environments.map((e) => e.name)),
        },
      ]);
    }
    return { ...env };
  };
  const { promotion, smoke, verification } = config;
  return {
    staging: find('staging'),
    production: find('production'),
    promotion: {
      mode: promotion.mode,
      approvers: promotion.approvers,
      timeoutMs: promotion.timeout,
      onTimeout: promotion.onTimeout,
    },
    smoke: { ...smoke },
    verification: {
      durationMs: verification.duration,
      intervalMs: verification.interval,
      maxErrorRate: verification.maxErrorRate,
      maxP95LatencyMs: verification.maxP95LatencyMs,
      revenuePath: verification.revenuePath,
    },
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

/** The stage names a config declares, for error messages. */
export function stageNames(config: ResolvedConfig): StageName[] {
  return config.stages.map((s) => s.name);
}
