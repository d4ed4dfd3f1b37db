/** Names shared by the client, the worker and the workflows. Pure data: safe in the workflow sandbox. */

/** The task queue every Tollgate worker polls. */
export const TASK_QUEUE = 'tollgate-releases';

/** The custom search attributes Tollgate sets on release runs (registered by `tollgate dev`). */
export const SEARCH_ATTRIBUTES = {
  app: 'TollgateApp',
  environment: 'TollgateEnvironment',
  /** The full commit SHA of the release. */
  revision: 'TollgateRevision',
  /** The commit's tree hash. */
  tree: 'TollgateTree',
  stage: 'TollgateStage',
  outcome: 'TollgateOutcome',
} as const;

/** Largest log tail a stage result may carry into workflow history. */
export const LOG_TAIL_BYTES = 4096;

/** How many of a failed stage's last lines its status entry carries (the CLI shows them). */
export const STATUS_LOG_TAIL_LINES = 20;

/** The status entries of an environment's link, beside the command stages (names a user sees). */
export const deliveryStep = {
  deploy: (environment: string): string => `deploy-to-${environment}`,
  smoke: (environment: string): string => `smoke-test-${environment}`,
  /** The load test after the smoke test (links with a loadTest plan). */
  loadTest: (environment: string): string => `load-test-${environment}`,
  /** The canary window before the switch (links with a canary plan). */
  canary: (environment: string): string => `canary-${environment}`,
} as const;

/** The saga's names for its undos: the metrics, stats and notifications read them too. */
export const compensation = {
  discardArtifact: 'discard artifact',
  /** Puts an environment back on the release it served before (or out of traffic when there was none). */
  restore: (environment: string): string => `restore ${environment}`,
  /** Sends every customer of an environment back to its stable release (runs before its restore). */
  clearCanary: (environment: string): string => `clear canary of ${environment}`,
  /** True for the undo of a deployed environment (what counts as a rollback). */
  isRestore: (name: string): boolean => name.startsWith('restore ') || name === LEGACY_PRODUCTION_SWITCH_BACK,
  /** The environment a restore undid. */
  environmentOf: (name: string): string | undefined =>
    name === LEGACY_PRODUCTION_SWITCH_BACK
      ? 'production'
      : name.startsWith('restore ')
        ? name.slice(8)
        : undefined,
} as const;

/** Schema 1 runs named production's undo this way; their statuses still say so. */
const LEGACY_PRODUCTION_SWITCH_BACK = 'switch production back';

/** What runs at the gate before an environment, and in its verification window, in TollgateStage. */
export const WAIT_STAGES = {
  gate: 'promotion-gate',
  verification: 'verification',
  starting: 'starting',
} as const;

/**
 * The images a release uses besides its stages' own (config `images`), pinned: the image smoke
 * test's probe and the build's vulnerability scanner. Nothing unpinned is ever pulled.
 */
export const DEFAULT_IMAGES = { probe: 'curlimages/curl:7.88.1', scanner: 'aquasec/trivy:0.58.1' } as const;

/** How long a heavy stage waits for a CPU slot on its worker before it fails (retryable) to try another. */
export const SLOT_WAIT_MAX_MS = 15 * 60_000;
