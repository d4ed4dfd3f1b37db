/**
 * The pipeline of the bundled sample app (examples/saas-app). Your own app gets a file like
 * this one: stages are argv arrays run in the source directory (host runner) or in the stage's
 * image (Dagger runner); secrets are env var NAMES the worker resolves, never values.
 */
import { defineTollgate } from './src/config/define.js';

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
      steps: [
        ['npm', 'ci', '--no-audit', '--no-fund', '--prefer-offline'],
        ['npm', 'run', 'health'],
      ],
      timeout: '5m',
    },
    'test-suite': { steps: [['npm', 'test']], coverageMinimum: 90 },
    'test-stripe-integration': { steps: [['npm', 'run', 'test:stripe']] },
    'test-rag-engine': { steps: [['npm', 'run', 'test:rag']] },
    'verify-revenue-metrics': { steps: [['npm', 'run', 'verify:revenue']] },
    'build-production-image': {
      steps: [['npm', 'run', 'build']],
      artifact: { include: ['dist', 'package.json', 'package-lock.json'] },
    },
  },
});
