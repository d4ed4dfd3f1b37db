/**
 * Types shared by the config, the client, the workflows and the activities.
 * Everything here crosses workflow history, so it holds names and small values, never secrets.
 */
import type { StageName } from './constants.js';
import type { FailureType } from './failures.js';

/** Which runner executes command stages. */
export type RunnerKind = 'auto' | 'host' | 'dagger';

/** A Temporal retry policy in plain numbers. */
export interface RetryPlan {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
}

/** One command of a stage: an argv array, never a shell string. */
export interface StepPlan {
  run: string[];
  env: Record<string, string>;
}

/** What the build stage packs into the release artifact. */
export interface ArtifactPlan {
  /** Paths (relative to the source dir) copied into the artifact after the build steps. */
  include: string[];
  /** Command run inside the packed directory to install production dependencies only. */
  install: string[];
  /** Command that prints an SBOM (CycloneDX JSON) on stdout, run inside the packed directory. */
  sbom: string[];
}

/** A stage as data: what both runners execute. */
export interface StagePlan {
  name: StageName;
  /** Container image for the Dagger runner; the host runner ignores it. */
  image: string;
  steps: StepPlan[];
  env: Record<string, string>;
  /** Names of env vars whose values the worker resolves and passes as secrets. */
  secrets: string[];
  /** Whether the Dagger runner may cache this stage (and mount package-manager caches). */
  cache: boolean;
  timeoutMs: number;
  retry: RetryPlan;
  /** Exit codes that mean "try again" (for example a flaky network step); others are final. */
  retryableExitCodes: number[];
  /** Minimum line coverage in percent, read from the step output's coverage summary. */
  coverageMinimum?: number;
  /** Present on the build stage only. */
  artifact?: ArtifactPlan;
}

/** A reference to a built release artifact (the tarball stays outside history). */
export interface ArtifactRef {
  /** Absolute path of the artifact on the worker's machine (tarball, or OCI tarball for Dagger). */
  path: string;
  /** `sha256:<hex>` of the artifact (or the image digest). */
  digest: string;
  kind: 'tarball' | 'oci-image';
  /** Path of the SBOM (CycloneDX JSON), when one was produced. */
  sbomPath?: string;
  sizeBytes: number;
  /** Image reference when the image was published to a registry. */
  imageRef?: string;
}

/** What a stage reports back: small, history-friendly. */
export interface StageResult {
  name: StageName;
  runner: 'host' | 'dagger' | 'environment';
  attempt: number;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  exitCode: number;
  summary: string;
  /** Last lines of output, at most LOG_TAIL_BYTES, secrets redacted. */
  logTail: string;
  /** Where the full log lives on the worker's machine. */
  logPath: string;
  artifact?: ArtifactRef;
}

/** Details attached to a stage's ApplicationFailure so the workflow and CLI can show them. */
export interface StageFailureDetails {
  stage: StageName;
  attempt: number;
  exitCode: number | null;
  logTail: string;
  logPath: string;
  type: FailureType;
}

/** State of one stage as the status query reports it. */
export type StageState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'compensated';

/** One stage's entry in the status query. */
export interface StageStatus {
  state: StageState;
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  summary?: string;
  failureType?: string;
}

/** Where a run is, as a whole. */
export type ReleasePhase =
  | 'starting'
  | 'checks'
  | 'revenue-gates'
  | 'build'
  | 'staging'
  | 'awaiting-promotion'
  | 'production'
  | 'verifying'
  | 'compensating'
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'cancelled';

/** One compensation's outcome. */
export interface CompensationReport {
  name: string;
  ok: boolean;
  error?: string;
}

/** The `status` query's answer. */
export interface ReleaseStatus {
  app: string;
  ref: string;
  phase: ReleasePhase;
  stages: Partial<Record<StageName, StageStatus>>;
  compensations: CompensationReport[];
  artifact?: ArtifactRef;
  failure?: string;
  releaseId?: string;
  gate?: GateStatus;
  /** Baseline taken just before the production switch, then the window's samples (latest last). */
  verification?: { baseline?: VerificationSample; samples: VerificationSample[]; endsAt?: string };
  audit: AuditEntry[];
}

/** An environment as the workflow sees it: names and numbers only. */
export interface EnvironmentPlan {
  name: string;
  driver: 'local';
  port: number;
  start: string[];
  env: Record<string, string>;
  /** Names of secret env vars the worker resolves for the release process. */
  secrets: string[];
  healthPath: string;
  readyPath: string;
}

/** How the promotion gate behaves. */
export interface PromotionPlan {
  mode: 'manual' | 'auto';
  approvers: string[];
  timeoutMs: number;
  onTimeout: 'rollback' | 'promote';
}

/** What the staging smoke test checks. */
export interface SmokePlan {
  routes: string[];
  webhookPath: string;
  revenuePath: string;
  /** Name of the env var holding the webhook signing secret. */
  webhookSecret: string;
}

/** The verification window after the production switch. */
export interface VerificationPlan {
  durationMs: number;
  intervalMs: number;
  maxErrorRate: number;
  maxP95LatencyMs: number;
  revenuePath: string;
}

/** Staging, the gate, production and verification; absent when the config has no environments. */
export interface DeliveryPlan {
  staging: EnvironmentPlan;
  production: EnvironmentPlan;
  promotion: PromotionPlan;
  smoke: SmokePlan;
  verification: VerificationPlan;
}

/** The release workflow's one input. Holds names of secrets, never values. */
export interface ReleaseInput {
  app: string;
  /** Git revision (or any label) of the release. */
  ref: string;
  /** Absolute path of the app's source on the worker's machine. */
  sourceDir: string;
  runner: RunnerKind;
  /** Who or what started the run (CI actor, OS user). */
  requestedBy: string;
  /** The configured command stages, in pipeline order. */
  stages: StagePlan[];
  /** Stop after this stage (e.g. 'build-production-image' for pull requests). */
  until?: StageName;
  /** Heartbeat timeout of stage activities (default 10 s); tests shorten it. */
  heartbeatTimeoutMs?: number;
  delivery?: DeliveryPlan;
  /** Plain env for this release's processes in every environment (feature flags, SAAS_FAULT in demos). */
  releaseEnv?: Record<string, string>;
}

/** The release workflow's one result. */
export interface ReleaseResult {
  outcome: 'succeeded' | 'failed' | 'rolled-back' | 'cancelled';
  status: ReleaseStatus;
}

/** A built release on its way through the environments. */
export interface ReleaseRef {
  /** `<app>-<ref7>-<digest8>`: the same build always gets the same id, so deploys are idempotent. */
  releaseId: string;
  app: string;
  ref: string;
  artifact: ArtifactRef;
}

/** A promote or rollback request from an operator (CLI update, or the UI's signal dialog). */
export interface DecisionArgs {
  by: string;
  reason?: string;
}

/** What a promote or rollback update answers. */
export interface DecisionResult {
  accepted: boolean;
  action: 'promote' | 'rollback';
  phase: ReleasePhase;
}

/** One line of the audit trail: who did what to which release, and whether it was accepted. */
export interface AuditEntry {
  at: string;
  workflowId: string;
  app: string;
  action: 'promote' | 'rollback' | 'auto-promote' | 'gate-timeout' | 'auto-rollback' | 'release';
  by: string;
  reason: string;
  releaseId?: string;
  digest?: string;
  outcome: 'accepted' | 'refused' | 'succeeded' | 'failed' | 'rolled-back' | 'cancelled';
}

/** The promotion gate's state in the status query. */
export interface GateStatus {
  state: 'waiting' | 'promoted' | 'rolled-back' | 'timed-out';
  since: string;
  timeoutAt: string;
  decidedBy?: string;
  reason?: string;
}

/** One sample of the verification window. */
export interface VerificationSample {
  at: string;
  healthy: boolean;
  requests: number;
  errorRate: number;
  p95LatencyMs: number | null;
  revenueEvents: number | null;
  /** The breached signal and why, when this sample breached. */
  breach?: { signal: 'health' | 'error-rate' | 'latency' | 'revenue'; detail: string };
}

/** The daily health workflow's one input. Holds names of secrets, never values. */
export interface DailyHealthInput {
  app: string;
  /** Absolute path of the app's source on the worker's machine. */
  sourceDir: string;
  runner: RunnerKind;
  /** The app's quick-health-check stage, when the config has one. */
  healthStage?: StagePlan;
  /** Every configured environment: health and readiness through its proxy. */
  environments: EnvironmentPlan[];
  /** The revenue tracker's endpoint (read in production, else the last environment) and how old its last event may be. */
  revenue: { path: string; maxAgeMs: number };
  /** Name of the env var holding the Stripe secret key (resolved on the worker). */
  stripeKeySecret: string;
}

/** What kind of Stripe key the worker holds (never the key itself). */
export type StripeKeyKind = 'test' | 'live' | 'publishable' | 'unknown' | 'missing';

/** One check of the daily health run and how it went. */
export interface HealthCheck {
  /** e.g. `quick-health-check`, `staging health`, `production readiness`, `stripe key`, `revenue freshness`. */
  name: string;
  ok: boolean;
  /** What was seen, or why the check failed. */
  detail: string;
  /** Stripe key check: the key's kind. */
  keyKind?: StripeKeyKind;
  /** Revenue freshness: time since the last counted event, when there was one. */
  ageMs?: number;
}

/** The daily health workflow's result. */
export interface DailyHealthReport {
  app: string;
  checks: HealthCheck[];
  /** True when every check passed. */
  ok: boolean;
  startedAt: string;
  endedAt: string;
}

/** Something worth telling a human about; later notifiers (a webhook) take the same shape. */
export type Notification = { kind: 'daily-health-failed'; text: string; report: DailyHealthReport };
