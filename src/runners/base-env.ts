/** The environment a stage's processes start from: the basics, never the worker's secrets. */

const PASSED = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
  'SHELL',
  'CI',
];
// npm's own settings (registry, cache), tool discovery for stripe-mock, and Tollgate's own settings.
const PASSED_PREFIXES = ['npm_config_', 'NPM_CONFIG_', 'STRIPE_MOCK_', 'TOLLGATE_'];
// …except Tollgate's own secrets (the encryption key and its file, the approval secret, webhook URLs).
const WITHHELD = /KEY|SECRET|TOKEN|PASSWORD|WEBHOOK/;

/**
 * Picks the variables a stage may inherit from the worker. The worker may hold production
 * secrets (a live Stripe key for the production release); a test stage must never see them,
 * so stages get only these basics plus their own `env` and declared `secrets`.
 */
export function baseEnv(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const prefixed = PASSED_PREFIXES.some((prefix) => key.startsWith(prefix)) && !WITHHELD.test(key);
    if (PASSED.includes(key) || prefixed) env[key] = value;
  }
  return env;
}
