/** Names shared by the client, the worker and the workflows. Pure data: safe in the workflow sandbox. */

/** The task queue every Tollgate worker polls. */
export const TASK_QUEUE = 'tollgate-releases';

/** The release stages in pipeline order; the config may only name these. */
export const STAGE_NAMES = [
  'quick-health-check',
  'test-suite',
  'test-stripe-integration',
  'test-rag-engine',
  'verify-revenue-metrics',
  'build-production-image',
  'deploy-to-staging',
  'smoke-test-staging',
  'deploy-to-production',
] as const;

/** One of the release stages. */
export type StageName = (typeof STAGE_NAMES)[number];

/** The revenue gates, which run in parallel after the test suite. */
export const REVENUE_GATES = [
  'test-stripe-integration',
  'test-rag-engine',
  'verify-revenue-metrics',
] as const satisfies readonly StageName[];

/** Stages that run the app's own commands (through a runner) rather than an environment driver. */
export const COMMAND_STAGES = [
  'quick-health-check',
  'test-suite',
  'test-stripe-integration',
  'test-rag-engine',
  'verify-revenue-metrics',
  'build-production-image',
] as const satisfies readonly StageName[];

/** A stage that runs through a runner. */
export type CommandStageName = (typeof COMMAND_STAGES)[number];

/** Stages whose plan must never see a live Stripe key. */
export const TEST_STAGES: readonly StageName[] = [
  'quick-health-check',
  'test-suite',
  'test-stripe-integration',
  'test-rag-engine',
  'verify-revenue-metrics',
];

/** The custom search attributes Tollgate sets on release runs (registered by `tollgate dev`). */
export const SEARCH_ATTRIBUTES = {
  app: 'TollgateApp',
  environment: 'TollgateEnvironment',
  revision: 'TollgateRevision',
  stage: 'TollgateStage',
  outcome: 'TollgateOutcome',
} as const;

/** Largest log tail a stage result may carry into workflow history. */
export const LOG_TAIL_BYTES = 4096;

/** Workflow IDs: one release lane per app. */
export const releaseWorkflowId = (app: string, ref: string, suffix: string): string =>
  `release-${app}-${ref.slice(0, 12)}-${suffix}`;
