/**
 * The shapes of schema 1 (Tollgate 0.1): the fixed nine-stage pipeline with staging then
 * production, run in the source folder on the worker's disk. Runs started by 0.1 clients, and
 * their histories, carry these; the frozen workflow code in this folder takes them. Nothing new
 * uses them. Types shared with schema 2 come from src/types.ts.
 */
import type {
  ArtifactRef,
  AuditEntry,
  CompensationReport,
  GateStatus,
  NotificationPlan,
  PromotionPlan,
  RunnerKind,
  StagePlan as StagePlanV2,
  StageStatus,
  VerificationSample,
} from '../../types.js';

export type {
  ArtifactRef,
  AuditEntry,
  CompensationReport,
  DailyHealthReport,
  DecisionArgs,
  GateStatus,
  HealthCheck,
  PromotionPlan,
  ReleaseRef,
  StageFailureDetails,
  StageResult,
  StageStatus,
  VerificationSample,
} from '../../types.js';

/** The release stages of schema 1 in pipeline order. */
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

/** One of the schema 1 stages. */
export type StageName = (typeof STAGE_NAMES)[number];

/** The revenue gates, which ran in parallel after the test suite. */
export const REVENUE_GATES = [
  'test-stripe-integration',
  'test-rag-engine',
  'verify-revenue-metrics',
] as const satisfies readonly StageName[];

/** A command stage of schema 1: one of the fixed names, no `needs` (the order was fixed). */
export type StagePlan = Omit<StagePlanV2, 'needs' | 'name'> & { name: StageName };

/** What a promote or rollback update of a schema 1 run answers. */
export interface DecisionResult {
  accepted: boolean;
  action: 'promote' | 'rollback';
  phase: ReleasePhase;
}

/** An environment in schema 1: no app (environments were keyed by name alone). */
export interface EnvironmentPlan {
  name: string;
  driver: 'local';
  port: number;
  start: string[];
  env: Record<string, string>;
  secrets: string[];
  healthPath: string;
  readyPath: string;
  /** Added by the frozen workflow before it calls an activity, so environments are keyed by app now. */
  app?: string;
}

/** The schema 1 smoke test: always with the Stripe-signed events. */
export interface SmokePlan {
  routes: string[];
  webhookPath: string;
  revenuePath: string;
  webhookSecret: string;
}

/** The schema 1 verification window: always with the revenue signal. */
export interface VerificationPlan {
  durationMs: number;
  intervalMs: number;
  maxErrorRate: number;
  maxP95LatencyMs: number;
  revenuePath: string;
}

/** Staging, the gate, production and verification. */
export interface DeliveryPlan {
  staging: EnvironmentPlan;
  production: EnvironmentPlan;
  promotion: PromotionPlan;
  smoke: SmokePlan;
  verification: VerificationPlan;
}

/** The schema 1 release input. */
export interface ReleaseInput {
  app: string;
  ref: string;
  sourceDir: string;
  runner: RunnerKind;
  requestedBy: string;
  stages: StagePlan[];
  until?: StageName;
  heartbeatTimeoutMs?: number;
  delivery?: DeliveryPlan;
  releaseEnv?: Record<string, string>;
  notifications?: NotificationPlan;
  buildTaskQueue?: string;
}

/** Where a schema 1 run is. */
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

/** The schema 1 status query's answer (also in results and failure details of schema 1 runs). */
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
  verification?: { baseline?: VerificationSample; samples: VerificationSample[]; endsAt?: string };
  audit: AuditEntry[];
}

/** The schema 1 result. */
export interface ReleaseResult {
  outcome: 'succeeded' | 'failed' | 'rolled-back' | 'cancelled';
  status: ReleaseStatus;
}

/** The schema 1 daily health input. */
export interface DailyHealthInput {
  app: string;
  sourceDir: string;
  runner: RunnerKind;
  healthStage?: StagePlan;
  environments: EnvironmentPlan[];
  revenue: { path: string; maxAgeMs: number };
  stripeKeySecret: string;
  notifications?: NotificationPlan;
}
