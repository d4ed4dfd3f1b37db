/**
 * Types shared by the config, the client, the workflows and the activities (schema 2: a release is
 * one commit of one repository through the config's own stages and environments).
 * Everything here crosses workflow history, so it holds names and small values, never secrets.
 */
import type { FailureType } from './failures.js';
import type { LoadTestPlan } from './verification/load-test.js';
import type { Verdict, VerdictPlan } from './verification/index.js';

/** Which runner executes command stages. */
export type RunnerKind = 'auto' | 'host' | 'dagger';

/**
 * What a release is: one commit of one repository. The client resolves the revision before
 * anything starts; the worker fetches exactly this commit and checks it out per run.
 */
export interface SourceRef {
  /** Where workers fetch from: a URL, or an absolute path on the workers' machine. */
  repository: string;
  /** The full commit SHA. */
  commit: string;
  /** The commit's tree hash; null when the client could not read it (the worker fills it in). */
  tree: string | null;
  /** The app's folder inside the repository ('' for its root). */
  subdir: string;
  /** What was asked for: a branch, a tag, `HEAD`, a short SHA. */
  revision: string;
  /** A snapshot of a dirty working tree (`--allow-dirty`): its changed files, on top of `base`. */
  dirty?: { base: string; files: string[] };
  /** A ref the commit can be fetched under when it is on no branch (a dirty snapshot). */
  fetchRef?: string;
}

/** A folder restored into fresh checkouts while its key files are unchanged (the config's `dependencies`). */
export interface DependencyPlan {
  /** Relative to the app's folder, e.g. `node_modules`. */
  path: string;
  /** Files (relative to the app's folder) whose content decides whether a stored copy fits, e.g. `package-lock.json`. */
  key: string[];
}

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

/** What a build stage packs into the release artifact. */
export interface ArtifactPlan {
  /** Paths (relative to the source dir) copied into the artifact after the build steps. */
  include: string[];
  /** Command run inside the packed directory to install production dependencies only. */
  install: string[];
  /** Command that prints an SBOM (CycloneDX JSON) on stdout, run inside the packed directory. */
  sbom: string[];
  /** The runtime image's base (Dagger runner; config `images.runtime`, else the -slim variant of the stage's image). */
  runtimeImage?: string;
  /** The scanner's image, used when a scan is asked for (config `images.scanner`). */
  scanImage?: string;
  /**
   * The repository the config's docker environments pull from (`environments[].docker.registry`): the
   * Dagger build publishes its image there, tagged by commit, and the release carries the pinned digest.
   */
  publishTo?: string;
}

/** The images a release uses besides its stages' own (config `images`), each pinned. */
export interface ImagesPlan {
  /** The image smoke test's probe (it runs curl). */
  probe: string;
  /** The build's vulnerability scanner. */
  scanner: string;
  /** The build's runtime base, when the config names one. */
  runtime?: string;
}

/** A command stage as data: what both runners execute. */
export interface StagePlan {
  /** The config's name for it (kebab-case). */
  name: string;
  /** Stages that must have succeeded before this one starts; [] starts at once. */
  needs: string[];
  /** Container image for the Dagger runner; the host runner ignores it. */
  image: string;
  steps: StepPlan[];
  env: Record<string, string>;
  /** Names of env vars whose values the worker resolves and passes as secrets. */
  secrets: string[];
  /** Whether the Dagger runner may cache this stage's layers (and mount package-manager caches); config `cache: false` says no. */
  cache: boolean;
  /**
   * Whether a passed result may be served from the stage result cache to a later run with the same
   * key (src/runners/stage-cache.ts): config `cache`, else true for a stage without secrets. Absent
   * in plans from before the cache: never served.
   */
  cacheResult?: boolean;
  /**
   * `light`: the stage barely uses the CPU (a quick check) and starts at once; `heavy` stages (the
   * default) share the worker's CPU slots (TOLLGATE_STAGE_SLOTS), so a parallel group never runs slower than in a row.
   */
  load?: 'light' | 'heavy';
  timeoutMs: number;
  retry: RetryPlan;
  /** Exit codes that mean "try again" (for example a flaky network step); others are final. */
  retryableExitCodes: number[];
  /** Minimum line coverage in percent, read from the step output's coverage summary. */
  coverageMinimum?: number;
  /** On the one stage whose result the environments deploy. */
  artifact?: ArtifactPlan;
  /**
   * Services the steps talk to (stripe-mock). The Dagger runner starts each from its image and binds
   * it under its name; the host runner ignores them: there the stage uses what the host provides.
   */
  services?: ServicePlan[];
}

/** What a runner needs of a stage: everything but its place in the graph (schema 1 stages have none). */
export type CommandPlan = Omit<StagePlan, 'needs'>;

/** A service beside a stage's steps in containers, reached by its name as a hostname. */
export interface ServicePlan {
  /** Hostname the steps reach it by, e.g. `stripe-mock`. */
  name: string;
  /** Image pinned to a tag or digest; started with its own entrypoint and default args. */
  image: string;
  /** Port it listens on. */
  port: number;
  /** Env the stage's steps get in containers (how to reach the service); not used on the host. */
  env: Record<string, string>;
}

/** A reference to a built release artifact (the tarball stays outside history). */
export interface ArtifactRef {
  /** Absolute path of the release tarball on the worker that built it. */
  path: string;
  /** `sha256:<hex>` of the tarball. */
  digest: string;
  /**
   * Both runners produce `tarball`. `oci-image` (the OCI tarball only) was recorded by Dagger builds
   * before they packed a tarball too; it stays readable in old histories, and the local driver refuses it.
   */
  kind: 'tarball' | 'oci-image';
  /** Path of the SBOM (CycloneDX JSON), when one was produced. */
  sbomPath?: string;
  sizeBytes: number;
  /** The same release as a container image, when the build ran on the Dagger runner. */
  image?: ImageArtifact;
}

/** A built container image: for container platforms and the image smoke test. */
export interface ImageArtifact {
  /** Absolute path of the OCI tarball on the worker that built it. */
  path: string;
  /** `sha256:<hex>`: the registry's manifest digest when published, else the OCI tarball's. */
  digest: string;
  sizeBytes: number;
  /** `registry/repository:tag@sha256:...` when the image was published. */
  ref?: string;
}

/** What a stage reports back: small, history-friendly. */
export interface StageResult {
  name: string;
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
  /** Set when the result was served from the stage result cache: the run that produced it. */
  cached?: CachedFrom;
}

/** Where a cached stage result came from. */
export interface CachedFrom {
  /** The cache key (sha256 hex of everything the result depends on). */
  key: string;
  workflowId: string;
  runId: string;
  /** When that run finished the stage (ISO time). */
  at: string;
  /** How long the stage took there. */
  durationMs: number;
}

/** Details attached to a stage's ApplicationFailure so the workflow and CLI can show them. */
export interface StageFailureDetails {
  stage: string;
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
  /** A failed command stage: its last lines of output (at most STATUS_LOG_TAIL_LINES), secrets redacted. */
  logTail?: string;
  /** A failed command stage: where its full log is on the worker's machine. */
  logPath?: string;
  /** A command stage served from the stage result cache: the run it came from. */
  cached?: CachedFrom;
}

/** Where a run is, as a whole (`environment` in the status says which link of the chain). */
export type ReleasePhase =
  | 'starting'
  /** Command stages are running. */
  | 'stages'
  /** A release is being deployed to an environment and smoke-tested there. */
  | 'deploying'
  | 'awaiting-promotion'
  | 'verifying'
  | 'compensating'
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'cancelled';

/** The phases a run ends in. */
export const FINAL_PHASES = [
  'succeeded',
  'failed',
  'rolled-back',
  'cancelled',
] as const satisfies readonly ReleasePhase[];

/** One compensation's outcome. */
export interface CompensationReport {
  name: string;
  ok: boolean;
  error?: string;
}

/** The commit a run releases, as the status shows it. */
export type SourceSummary = Pick<
  SourceRef,
  'repository' | 'commit' | 'tree' | 'subdir' | 'revision' | 'dirty'
>;

/** The verification window of one environment: the baseline before the switch, then its samples (latest last). */
export interface VerificationProgress {
  baseline?: VerificationSample;
  samples: VerificationSample[];
  endsAt?: string;
}

/** One environment's link as the status shows it. */
export interface EnvironmentProgress {
  gate?: GateStatus;
  canary?: CanaryProgress;
  verification?: VerificationProgress;
}

/** A canary window as the status shows it: where it is, and the latest verdict with its evidence. */
export interface CanaryProgress {
  steps: number[];
  /** The step now (0-based), and its weight in percent. */
  step: number;
  weight: number;
  stepStartedAt: string;
  /** The release it is compared with; null for a first release (judged on absolute limits). */
  stable: string | null;
  state: 'running' | 'paused' | 'passed' | 'failed' | 'stopped';
  /** The latest verdict, with every check's evidence. */
  verdict?: Verdict;
  /** Each step's deciding verdict (the pass that advanced it, or the fail), oldest first. */
  decided: CanaryDecision[];
  readings: number;
  /** The synthetic share (probes) of each release's requests in the window so far. */
  synthetic?: {
    canary: number;
    stable: number | null;
    /** Of each release's payment attempts (checkouts), the payment probes' share; with checkoutPath only. */
    payments?: { canary: number; stable: number | null };
  };
  /** Why the payment probes asked for do not run (the environment's Stripe key is not a test key, …). */
  paymentProbesOff?: string;
  /**
   * The child workflow running the window now (its id): the release's own status holds the progress
   * as of the window's start or last pause, `queryStatus` fills in the live one from there.
   */
  window?: string;
}

/** The verdict that ended a canary step, in brief. */
export interface CanaryDecision {
  at: string;
  step: number;
  weight: number;
  outcome: Verdict['outcome'];
  action: Verdict['action'];
  reason: Verdict['reason'];
  detail: string;
  canaryRequests: number;
  stableRequests: number | null;
}

/** The `status` query's answer (schema 2). */
export interface ReleaseStatus {
  schemaVersion: 2;
  app: string;
  source: SourceSummary;
  phase: ReleasePhase;
  /** The environment the run works on now, or worked on last. */
  environment?: string;
  /** Command stages in config order, then each environment's `deploy-to-<env>` and `smoke-test-<env>`. */
  stages: Record<string, StageStatus>;
  /** Every environment of the chain, in chain order (the last is the app's production): its gate and verification window. */
  environments: Record<string, EnvironmentProgress>;
  compensations: CompensationReport[];
  artifact?: ArtifactRef;
  failure?: string;
  releaseId?: string;
  /** `--until`: the stage or environment the run stops after (a partial run, e.g. a pull request). */
  until?: string;
  audit: AuditEntry[];
}

/** An environment as the workflow sees it: names and numbers only. */
export interface EnvironmentPlan {
  /** The app it belongs to: environments are kept per app, so apps on one worker never meet. */
  app: string;
  name: string;
  /** `local`: host processes; `docker`: containers under a Docker engine (settings in `docker`). */
  driver: 'local' | 'docker';
  port: number;
  start: string[];
  env: Record<string, string>;
  /** Names of secret env vars the worker resolves for the release process. */
  secrets: string[];
  healthPath: string;
  readyPath: string;
  /** The docker driver's settings (config `docker`, defaults filled in). */
  docker?: DockerPlan;
}

/** How a `docker` environment runs its containers; the engine's address defaults where the worker runs. */
export interface DockerPlan {
  engine?: string;
  network?: string;
  /** MiB. */
  memory?: number;
  cpus?: number;
  restart: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  baseImage: string;
  user: string;
  containerPort: number;
  /** The repository (`registry[:port]/path`) release images are pulled from; a Dagger build publishes there. */
  registry?: string;
}

/** How the gate before an environment behaves. */
export interface PromotionPlan {
  mode: 'manual' | 'auto';
  approvers: string[];
  timeoutMs: number;
  onTimeout: 'rollback' | 'promote';
}

/** What the smoke test checks after an environment switches to the release. */
export interface SmokePlan {
  /** Routes that must answer 200 (health and readiness are always checked). */
  routes: string[];
  /** Send a Stripe-signed test event (must be counted) and a forged one (must be refused); needs `revenue`. */
  revenueEvents: boolean;
}

/** The verification window after an environment's switch. */
export interface VerificationPlan {
  durationMs: number;
  intervalMs: number;
  maxErrorRate: number;
  maxP95LatencyMs: number;
}

/** Revenue protection, where the config declares it (`revenue:`): the Stripe webhook and the revenue tracker. */
export interface RevenuePlan {
  /** Where the app takes Stripe webhooks, e.g. `/webhooks/stripe`. */
  webhookPath: string;
  /** Where the app reports `{ revenueCents, eventCount, lastEventAt }`, e.g. `/metrics/revenue`. */
  revenuePath: string;
  /** Name of the env var holding the webhook signing secret. */
  webhookSecret: string;
  /** Name of the env var holding the Stripe secret key the daily health check inspects. */
  stripeKeySecret: string;
}

/** One link of the environment chain: the gate before it, the deploy, its smoke test and verification window. */
export interface EnvironmentLink {
  environment: EnvironmentPlan;
  promotion: PromotionPlan;
  smoke?: SmokePlan;
  /** Canary steps before the switch, each judged on evidence; absent: blue/green (all traffic at once). */
  canary?: CanaryPlan;
  /** A load test after the smoke test, whose p95 and error rate gate what follows; absent: none. */
  loadTest?: LoadTestPlan;
  verification?: VerificationPlan;
}

/** An extra signal for the canary's verdicts: a Prometheus instant query and its plain threshold. */
export interface ExternalSignalPlan {
  name: string;
  /** The Prometheus server's base address, e.g. `http://127.0.0.1:9090`. */
  url: string;
  /** A PromQL query returning one value; `$release` is replaced by the canary's release id. */
  query: string;
  min?: number;
  max?: number;
}

/**
 * A canary window (src/workflows/release/canary.ts): the release gets `steps` percent of the
 * environment's customers in turn, each step judged by src/verification against the stable
 * release, then the whole environment. The verdict plan is stored complete (defaults filled at
 * `tollgate run`), so a later Tollgate with other defaults replays this run the same.
 */
export interface CanaryPlan {
  /** Canary weights in percent, ascending, each from 1 to 99; the switch to 100 follows the last. */
  steps: number[];
  /** A step serves at least this long before it can pass. */
  stepMinMs: number;
  /** A step still inconclusive after this long takes `verdict.onInconclusive`. */
  stepMaxMs: number;
  /** How often the counters are read and judged. */
  intervalMs: number;
  /** How long the evidence may stay unavailable (an external signal unread) before `onInconclusive` applies. */
  unavailableMaxMs: number;
  /** What keeps a customer on one release: a header, then a cookie, then the client address. */
  sticky: { header?: string; cookie?: string };
  verdict: VerdictPlan;
  external: ExternalSignalPlan[];
  /**
   * Where customers check out (POST): each release's checkouts there are its payment counters, and
   * the verdict plan's payment checks (failed payments, checkout stop) judge them. Absent: none.
   */
  checkoutPath?: string;
  /** Tops thin traffic up with probes on `routes` to `ratePerSecond` in all, during each step; absent: none. */
  probes?: { ratePerSecond: number; routes: string[]; payments?: PaymentProbePlan };
  /**
   * The window runs as a child workflow that continues as new once its history has this many events,
   * carrying its folded verdict state, so a soak of any length stays far below Temporal's limits.
   * Absent: CANARY_EVENTS_PER_RUN.
   */
  eventsPerRun?: number;
}

/**
 * Stripe test-mode payments among a canary's probes: checkouts at the canary's checkout path, each
 * followed by the test-mode `payment_intent.succeeded` event Stripe would send, signed with the
 * webhook secret. Names of secrets, never values; the worker sends none where the environment's
 * Stripe key is not a test key.
 */
export interface PaymentProbePlan {
  /** Checkouts per second in all (real ones count towards it). */
  ratePerSecond: number;
  amount: number;
  currency: string;
  checkoutPath: string;
  webhookPath: string;
  /** The names of the webhook signing secret and of the Stripe key the released app uses. */
  webhookSecret: string;
  stripeKeySecret: string;
}

/** What a canary step's probes did (the activity's result, kept in the canary's progress). */
export interface ProbeReport {
  sent: number;
  failed: number;
  /** Payment probes: checkouts sent, failed (not 2xx, or their event refused), events accepted; or why none ran. */
  payments?: { sent: number; failed: number; events: number; refused?: string };
}

/** The release workflow's one input (schema 2). Holds names of secrets, never values. */
export interface ReleaseInput {
  schemaVersion: 2;
  app: string;
  source: SourceRef;
  runner: RunnerKind;
  /** Who or what started the run (CI actor, OS user). */
  requestedBy: string;
  /** The command stages, in config order, each with its `needs`. */
  stages: StagePlan[];
  /** The environment chain, in order; empty when the config has none. */
  environments: EnvironmentLink[];
  /** Folders restored into the run's checkout while their key files are unchanged. */
  dependencies: DependencyPlan[];
  revenue?: RevenuePlan;
  /** Stop after this stage (with what it needs) or environment. */
  until?: string;
  /** Heartbeat timeout of stage activities (default 10 s); tests shorten it. */
  heartbeatTimeoutMs?: number;
  /** Plain env for this release's processes in every environment (feature flags, SAAS_FAULT in demos). */
  releaseEnv?: Record<string, string>;
  /** Where gate, promotion and rollback notifications go (the webhook secret's name, the UI's address). */
  notifications?: NotificationPlan;
  /** Task queue of the artifact stage when builds run on workers of their own (TOLLGATE_BUILD_TASK_QUEUE). */
  buildTaskQueue?: string;
  /** The images besides the stages' own (the image smoke test's probe); absent in runs started before it existed. */
  images?: ImagesPlan;
  /** `run --no-cache`: every command stage runs, none is served from the stage result cache. */
  noCache?: boolean;
  /** The lane refuses a release after this many automatic rollbacks of the app within the window; absent: no brake. */
  rollbackBrake?: RollbackBrakePlan;
}

/** The rollback brake: too many automatic rollbacks in a row mean a person should look first. */
export interface RollbackBrakePlan {
  limit: number;
  windowMs: number;
}

/** The release workflow's one result. */
export interface ReleaseResult {
  outcome: 'succeeded' | 'failed' | 'rolled-back' | 'cancelled';
  status: ReleaseStatus;
}

/** A built release on its way through the environments. */
export interface ReleaseRef {
  /** `<app>-<sha7>-<digest8>`: the same build always gets the same id, so deploys are idempotent. */
  releaseId: string;
  app: string;
  /** The commit (full SHA) it was built from. */
  ref: string;
  artifact: ArtifactRef;
}

/** A promote or rollback request from an operator (CLI update, or the UI's signal dialog). */
export interface DecisionArgs {
  by: string;
  reason?: string;
  /**
   * Set by `tollgate promote`/`rollback` where TOLLGATE_APPROVER_KEY is set: the approver's Ed25519
   * signature (`sig`, base64) over the run, action, identity, reason and `at`; `keyId` is the first
   * 16 hex digits of the SHA-256 of the signing key's public key (SPKI DER), for messages only.
   */
  signature?: { alg: 'ed25519'; at: string; sig: string; keyId: string };
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
  action:
    | 'promote'
    | 'rollback'
    | 'auto-promote'
    | 'gate-timeout'
    | 'auto-rollback'
    | 'release'
    /** A person cleared the rollback brake of the app's lane (`tollgate lane unlock`). */
    | 'lane-unlock';
  /** For an `auto-rollback`: the verdict's machine-readable reason (src/verification Reason). */
  reasonCode?: string;
  by: string;
  reason: string;
  releaseId?: string;
  digest?: string;
  /** The environment the decision was about (the gate before it, its verification window). */
  environment?: string;
  /** The commit and tree released. */
  commit?: string;
  tree?: string;
  /** `unchanged`: a request that found nothing to do (an environment rolled back before). */
  outcome: 'accepted' | 'refused' | 'succeeded' | 'failed' | 'rolled-back' | 'cancelled' | 'unchanged';
}

/** A promotion gate's state in the status query. */
export interface GateStatus {
  state: 'waiting' | 'promoted' | 'rolled-back' | 'timed-out';
  since: string;
  timeoutAt: string;
  decidedBy?: string;
  reason?: string;
}

/** One sample of a verification window. */
export interface VerificationSample {
  at: string;
  healthy: boolean;
  requests: number;
  errorRate: number;
  p95LatencyMs: number | null;
  /** Null where the config has no revenue block (or the tracker was unreadable). */
  revenueEvents: number | null;
  /** The breached signal and why, when this sample breached. */
  breach?: { signal: 'health' | 'error-rate' | 'latency' | 'revenue'; detail: string };
}

/** The daily health workflow's one input (schema 2). Holds names of secrets, never values. */
export interface DailyHealthInput {
  schemaVersion: 2;
  app: string;
  /** The app's repository: the health stage runs on the commit the last environment serves, else the default branch. */
  source: Pick<SourceRef, 'repository' | 'subdir'>;
  runner: RunnerKind;
  /** The config's health stage (`health.stage`), when it names one. */
  healthStage?: StagePlan;
  dependencies: DependencyPlan[];
  /** Every configured environment: health and readiness through its proxy. */
  environments: EnvironmentPlan[];
  /** With a revenue block: the Stripe key's kind and the revenue tracker's freshness (read in the last environment). */
  revenue?: RevenuePlan & { maxAgeMs: number };
  /** Where a failed check's notification goes (the webhook secret's name, the UI's address). */
  notifications?: NotificationPlan;
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
  /** Set when the check did not run, and why (e.g. the config has no revenue block); `ok` is then true. */
  notChecked?: string;
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

/** Which run a notification is about; the workflow-side helper fills it in. */
export interface NotificationRun {
  app: string;
  workflowId: string;
  /** The run's page in the Temporal UI, when the plan knows the UI's address. */
  uiUrl?: string;
}

/** A release's identity in a notification. */
export interface NotifiedRelease extends NotificationRun {
  releaseId: string;
  /** The commit released. */
  ref: string;
  /** The environment the gate or rollback concerns (absent in notifications of schema 1 runs). */
  environment?: string;
}

/** Something worth telling a human about: recorded in `<home>/notifications.jsonl`, sent to the webhook. */
export type Notification =
  | (NotifiedRelease & {
      kind: 'gate-waiting';
      approvers: string[];
      /** When the gate gives up (ISO time), and what it does then. */
      timeoutAt: string;
      onTimeout: PromotionPlan['onTimeout'];
    })
  | (NotifiedRelease & { kind: 'promoted'; by: string })
  | (NotifiedRelease & { kind: 'rolled-back'; by: string; reason: string })
  | (NotificationRun & { kind: 'daily-health-failed'; text: string; report: DailyHealthReport });

/** One of the notification kinds, as the config's `events` lists them. */
export type NotificationKind = Notification['kind'];

/** How notifications leave the worker. Holds the webhook secret's NAME, never the URL. */
export interface NotificationPlan {
  /** Base URL of the Temporal UI (TOLLGATE_UI_URL), for a link to the run. */
  uiUrl?: string;
  webhook?: {
    /** Name of the env var, on the worker, that holds the webhook URL. */
    urlSecret: string;
    /** The kinds the webhook receives; every kind is still recorded in notifications.jsonl. */
    events: NotificationKind[];
  };
  /** Retry of the notify activity; production values where absent (tests shorten it). */
  retry?: Partial<RetryPlan>;
}

/** What a rollback did: the release it left and the one now serving (null: none). */
export interface RollbackResult {
  from: string | null;
  to: string | null;
  /** False when this request switched nothing (the environment was rolled back before); absent from older supervisors. */
  changed?: boolean;
  /** When the switch happened (the earlier one, when `changed` is false). */
  at?: string;
}
