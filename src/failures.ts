/**
 * Failure types, declared once. Activities throw ApplicationFailure with one of these as `type`;
 * workflows, retry policies, the CLI and the UI read the same names. Pure data: safe in workflows.
 */
export const FailureType = {
  /** A step exited non-zero in a way a rerun cannot fix (a test assertion, a lint error). */
  StepFailed: 'StepFailed',
  /** A step failed in a way the stage's config says is worth retrying (a named exit code, a signal). */
  StepInterrupted: 'StepInterrupted',
  /** A stage ran past its timeout. */
  StageTimeout: 'StageTimeout',
  /** The test suite passed but coverage is below the stage's gate. */
  CoverageShortfall: 'CoverageShortfall',
  /** A live Stripe key reached a test stage. */
  LiveStripeKey: 'LiveStripeKey',
  /** A secret named by the config is not set where the worker runs. */
  MissingSecret: 'MissingSecret',
  /** The pipeline input or config is invalid. */
  InvalidConfig: 'InvalidConfig',
  /** The container engine could not be reached (retryable). */
  EngineUnavailable: 'EngineUnavailable',
  /** A container image the config names did not resolve (a typo, a tag that does not exist, a registry that does not serve it). */
  ImageNotFound: 'ImageNotFound',
  /** The Dagger CLI could not be provisioned: a configuration problem, not a transient one. */
  EngineNotInstalled: 'EngineNotInstalled',
  /** An environment driver could not deploy, switch or check a release. */
  EnvironmentFailed: 'EnvironmentFailed',
  /** A rollback was asked of an environment that has no previous release to go back to. */
  NoPreviousRelease: 'NoPreviousRelease',
  /** Staging smoke tests failed. */
  SmokeTestFailed: 'SmokeTestFailed',
  /** The load test before a promotion broke its p95 or error-rate limit. */
  LoadTestFailed: 'LoadTestFailed',
  /** The verification window saw a breach of a signal. */
  VerificationBreach: 'VerificationBreach',
  /** A compensation (undo) failed after its retries. */
  CompensationFailed: 'CompensationFailed',
  /** An operator rolled the release back. */
  RolledBack: 'RolledBack',
  /** A promote or rollback whose signature did not verify (signed approvals). */
  ApprovalRefused: 'ApprovalRefused',
  /** The notification webhook did not answer, or answered 408/429/5xx (retryable). */
  WebhookUnavailable: 'WebhookUnavailable',
  /** The notification webhook refused the message (another 4xx): a misconfigured hook. */
  WebhookRejected: 'WebhookRejected',
  /** The worker read the app's repository, but the release's commit is not in it (not pushed). */
  CommitNotFound: 'CommitNotFound',
  /** The worker could not read the app's repository at all (retryable: a network blip heals). */
  SourceUnavailable: 'SourceUnavailable',
  /** What the worker checked out does not match the commit (a damaged mirror or disk). */
  CheckoutMismatch: 'CheckoutMismatch',
  /** An environment of this app claims what another app's environment holds on this worker (a port). */
  EnvironmentConflict: 'EnvironmentConflict',
  /** The app's lane refuses releases after too many automatic rollbacks, until `tollgate lane unlock`. */
  LaneBraked: 'LaneBraked',
} as const;

/** One of the failure types above. */
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failure types that no retry can fix: retry policies list these as non-retryable. */
export const NON_RETRYABLE_FAILURES: FailureType[] = [
  FailureType.StepFailed,
  FailureType.CoverageShortfall,
  FailureType.LiveStripeKey,
  FailureType.MissingSecret,
  FailureType.InvalidConfig,
  FailureType.EngineNotInstalled,
  FailureType.ImageNotFound,
  FailureType.SmokeTestFailed,
  FailureType.LoadTestFailed,
  FailureType.WebhookRejected,
  FailureType.NoPreviousRelease,
  FailureType.CommitNotFound,
  FailureType.CheckoutMismatch,
  FailureType.EnvironmentConflict,
];

/**
 * The innermost message of a failure: an ActivityFailure (or a workflow failure) wraps the error
 * that says what happened, so "Activity task failed" is never what a person reads.
 */
export function messageOf(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
