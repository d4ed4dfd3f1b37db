/**
 * The pipeline of the bundled sample app (examples/saas-app). Your own app gets a file like
 * this one: stages are argv arrays run in the source directory (host runner) or in the stage's
 * image (Dagger runner); secrets are env var NAMES the worker resolves, never values.
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
  source: './examples/saas-app',
  runner: 'auto',
  defaults: {
    image: 'node:20-slim',
    timeout: '10m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 3 },
  },
  stages: {
    'quick-health-check': {
      // `npm install` adds only what is missing (seconds when node_modules is current); `npm ci` would
      // recompile better-sqlite3 on every release. In containers every stage starts clean: the Dagger runner
      // runs `npm ci` (from the lockfile, npm cache mounted) before the steps of each stage that does not install.
      steps: [
        ['npm', 'install', '--no-audit', '--no-fund', '--prefer-offline'],
        ['npm', 'run', 'health'],
      ],
      timeout: '5m',
    },
    'test-suite': { steps: [['npm', 'test']], coverageMinimum: 90 },
    'test-stripe-integration': {
      steps: [['npm', 'run', 'test:stripe']],
      // In containers stripe-mock runs beside the steps; on the host, test:stripe uses STRIPE_MOCK_URL
      // from the worker's env or starts the stripe-mock that scripts/ensure-tools installed.
      services: [
        {
          name: 'stripe-mock',
          image: 'stripe/stripe-mock:v0.206.0',
          port: 12111,
          env: { STRIPE_MOCK_URL: 'http://stripe-mock:12111' },
        },
      ],
    },
    'test-rag-engine': { steps: [['npm', 'run', 'test:rag']] },
    'verify-revenue-metrics': { steps: [['npm', 'run', 'verify:revenue']] },
    'build-production-image': {
      steps: [['npm', 'run', 'build']],
      artifact: {
        // The built node_modules minus devDependencies: no second native compile of better-sqlite3.
        include: ['dist', 'package.json', 'package-lock.json', 'node_modules'],
        install: ['npm', 'prune', '--omit=dev', '--no-audit', '--no-fund'],
      },
    },
  },
  environments: [
    { name: 'staging', port: 4100, ...release },
    { name: 'production', port: 4200, ...release },
  ],
  promotion: {
    mode: 'manual',
    approvers: ['release-manager', 'oncall'],
    timeout: '30m',
    onTimeout: 'rollback',
  },
  smoke: { routes: ['/api/insights?q=pricing', '/metrics/revenue'] },
  verification: { duration: '30s', interval: '2s', maxErrorRate: 0.01, maxP95LatencyMs: 1000 },
});
