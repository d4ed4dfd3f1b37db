/**
 * The pipeline of the bundled sample app (examples/saas-app): one config among many (`tollgate init`
 * writes one for your app). A release is one commit of this repository; the worker checks it out for
 * each run. Stages are argv arrays run in the app's folder of that checkout (host runner) or in the
 * stage's image (Dagger runner), each once every stage it `needs` has passed; secrets are env var
 * NAMES the worker resolves, never values. Environments form a chain: staging, then production.
 */
import { defineTollgate } from './src/config/define.js';

/** What both environments share: how a release starts and which secrets it gets. */
const release = {
  start: ['node', 'dist/server.js'],
  // ${TOLLGATE_DATA_DIR} is the environment's data directory, shared by its releases.
  env: { DATABASE_PATH: '${TOLLGATE_DATA_DIR}/saas.db', LOG_LEVEL: 'warn' },
  secrets: ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'],
  healthPath: '/healthz',
  readyPath: '/readyz',
};

export default defineTollgate({
  app: 'saas-app',
  // The app's folder in the repository that holds this file (no `repository:` given).
  source: './examples/saas-app',
  runner: 'auto',
  defaults: {
    // The full image (build tools, Node's headers): in containers `npm ci` compiles better-sqlite3
    // when no prebuilt binary can be downloaded. The build's runtime image is node:20-slim.
    image: 'node:20',
    timeout: '10m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 3 },
  },
  // Each run starts from a fresh checkout: node_modules (with better-sqlite3 compiled) is restored
  // from the last run whose package-lock.json was the same, so the install runs once per lockfile.
  dependencies: [{ path: 'node_modules', key: ['package-lock.json'] }],
  stages: {
    'quick-health-check': {
      // `npm install` adds only what is missing (seconds when node_modules is current); `npm ci` would
      // recompile better-sqlite3 on every release. In containers every stage starts clean: the Dagger runner
      // runs `npm ci` (from the lockfile, npm cache mounted) before the steps of each stage that does not install.
      steps: [
        ['npm', 'install', '--no-audit', '--no-fund', '--prefer-offline'],
        ['npm', 'run', 'health'],
      ],
      // The health stage (health.stage below) checks the world outside the commit: it is never
      // served from the stage result cache, and always runs.
      timeout: '5m',
    },
    'test-suite': { steps: [['npm', 'test']], coverageMinimum: 90 },
    // The three revenue checks need only the test suite: they run at the same time.
    'test-stripe-integration': {
      needs: ['test-suite'],
      steps: [['npm', 'run', 'test:stripe']],
      // In containers stripe-mock runs beside the steps; on the host, test:stripe uses STRIPE_MOCK_URL
      // from the worker's env or starts the stripe-mock that scripts/ensure-tools installed.
      services: [
        {
          name: 'stripe-mock',
          image: 'stripe/stripe-mock:v0.203.0',
          port: 12111,
          env: { STRIPE_MOCK_URL: 'http://stripe-mock:12111' },
        },
      ],
    },
    // Light: a quick check that barely uses the CPU, so it starts at once beside the other two,
    // which take turns for the worker's CPU slots (TOLLGATE_STAGE_SLOTS).
    'test-rag-engine': { needs: ['test-suite'], steps: [['npm', 'run', 'test:rag']], load: 'light' },
    'verify-revenue-metrics': { needs: ['test-suite'], steps: [['npm', 'run', 'verify:revenue']] },
    'build-production-image': {
      needs: ['test-stripe-integration', 'test-rag-engine', 'verify-revenue-metrics'],
      steps: [['npm', 'run', 'build']],
      artifact: {
        // The built node_modules minus devDependencies: no second native compile of better-sqlite3.
        include: ['dist', 'package.json', 'package-lock.json', 'node_modules'],
        install: ['npm', 'prune', '--omit=dev', '--no-audit', '--no-fund'],
      },
    },
  },
  environments: [
    // Staging: no gate before it; after the deploy, the smoke test (with the Stripe-signed events).
    {
      name: 'staging',
      port: 4100,
      ...release,
      smoke: { routes: ['/api/insights?q=pricing', '/metrics/revenue'] },
    },
    {
      name: 'production',
      port: 4200,
      ...release,
      promotion: {
        mode: 'manual',
        approvers: ['release-manager', 'oncall'],
        timeout: '30m',
        onTimeout: 'rollback',
      },
      // Canary steps before the switch (docs/canary.md): 25 % then 50 % of customers, sticky by
      // x-customer-id, each step judged against the stable release (α 1 %). The demo has no
      // customers, so probes top the traffic up to 100 requests per second, counted as synthetic;
      // a 5xx rate under 1 % counts as too rare to matter here (with real traffic, keep 0.1 %).
      canary: {
        steps: [25, 50],
        stepDuration: '5s',
        interval: '1s',
        sticky: { header: 'x-customer-id' },
        negligibleRate: 0.01,
        probes: { rate: 100, routes: ['/api/insights?q=pricing', '/healthz'] },
        onInconclusive: 'rollback',
      },
      verification: { duration: '30s', interval: '2s', maxErrorRate: 0.01, maxP95LatencyMs: 1000 },
    },
  ],
  // Revenue protection: signed test events in the smoke test, the revenue signal in verification,
  // and the Stripe key and revenue freshness in the daily health check.
  revenue: {
    webhookPath: '/webhooks/stripe',
    revenuePath: '/metrics/revenue',
    webhookSecret: 'STRIPE_WEBHOOK_SECRET',
    stripeKeySecret: 'STRIPE_SECRET_KEY',
  },
  health: { stage: 'quick-health-check' },
});
