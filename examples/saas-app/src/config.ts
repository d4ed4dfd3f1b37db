/** Fault switches used by demos to produce a release that passes CI but fails once deployed. */
export type Fault = 'none' | 'healthz' | 'webhook' | 'slow' | 'crash' | 'errors';

/** How the service reaches Stripe and verifies its webhooks. */
export interface StripeSettings {
  secretKey: string;
  /** Base URL of a Stripe-compatible API (stripe-mock); undefined means Stripe itself. */
  apiBase: URL | undefined;
  webhookSecret: string;
}

/** Optional LLM keys used to polish RAG answers; never required. */
export interface LlmSettings {
  openaiApiKey: string | undefined;
  anthropicApiKey: string | undefined;
}

/** Everything the service reads from its environment, parsed once at start. */
export interface AppConfig {
  host: string;
  port: number;
  databasePath: string;
  nodeEnv: string;
  ci: boolean;
  logLevel: string;
  fault: Fault;
  stripe: StripeSettings;
  llm: LlmSettings;
}

/**
 * Key used when STRIPE_SECRET_KEY is unset: accepted by stripe-mock, useless against Stripe.
 * No underscore after `sk_test_`: stripe-mock answers 401 to keys with more than three parts.
 */
export const DEFAULT_STRIPE_KEY = 'sk_test_tollgatelocal';
/** Webhook secret used when STRIPE_WEBHOOK_SECRET is unset (local runs only). */
export const DEFAULT_WEBHOOK_SECRET = 'whsec_tollgate_local_test_secret';

const FAULTS: readonly Fault[] = ['none', 'healthz', 'webhook', 'slow', 'crash', 'errors'];

/** True for Stripe live-mode secret or restricted keys. */
export function isLiveKey(key: string): boolean {
  return /^(sk|rk)_live_/.test(key);
}

/** True for Stripe test-mode secret or restricted keys. */
export function isTestKey(key: string): boolean {
  return /^(sk|rk)_test_/.test(key);
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3000;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got "${raw}"`);
  }
  return port;
}

function parseFault(raw: string | undefined): Fault {
  if (raw === undefined || raw === '') return 'none';
  if (!(FAULTS as readonly string[]).includes(raw)) {
    throw new Error(`SAAS_FAULT must be one of ${FAULTS.join(', ')}, got "${raw}"`);
  }
  return raw as Fault;
}

function parseApiBase(raw: string | undefined): URL | undefined {
  if (raw === undefined || raw === '') return undefined;
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`STRIPE_API_BASE must be an http(s) URL, got "${raw}"`);
  }
  return url;
}

function nonEmpty(raw: string | undefined): string | undefined {
  return raw === undefined || raw === '' ? undefined : raw;
}

/** Parses the environment into an AppConfig; throws with the variable's name on bad values. */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  return {
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    port: parsePort(env.PORT),
    databasePath: nonEmpty(env.DATABASE_PATH) ?? './data/saas.db',
    nodeEnv: nonEmpty(env.NODE_ENV) ?? 'development',
    ci: nonEmpty(env.CI) !== undefined && env.CI !== 'false' && env.CI !== '0',
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    fault: parseFault(env.SAAS_FAULT),
    stripe: {
      secretKey: nonEmpty(env.STRIPE_SECRET_KEY) ?? DEFAULT_STRIPE_KEY,
      apiBase: parseApiBase(env.STRIPE_API_BASE),
      webhookSecret: nonEmpty(env.STRIPE_WEBHOOK_SECRET) ?? DEFAULT_WEBHOOK_SECRET,
    },
    llm: {
      openaiApiKey: nonEmpty(env.OPENAI_API_KEY),
      anthropicApiKey: nonEmpty(env.ANTHROPIC_API_KEY),
    },
  };
}

/** Returns why the service must not start with this config, or undefined when it may. */
export function startupRefusal(config: AppConfig): string | undefined {
  const testContext = config.nodeEnv === 'test' || config.ci;
  if (testContext && isLiveKey(config.stripe.secretKey)) {
    const where = config.ci ? 'CI is set' : 'NODE_ENV=test';
    return `refusing to start: STRIPE_SECRET_KEY is a live key while ${where}; use an sk_test_ key or stripe-mock`;
  }
  return undefined;
}
