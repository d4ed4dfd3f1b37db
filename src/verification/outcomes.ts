/**
 * What a verdict answers: its outcome, the action it implies, a machine-readable reason and the
 * evidence of every check. The spellings are declared once here and used on every JSON surface.
 */
/** A check's or a verdict's outcome. */
export const Outcome = {
  Fail: 'fail',
  Pass: 'pass',
  /** Not enough evidence yet either way. */
  Inconclusive: 'inconclusive',
  /** A signal could not be read: never a fail; the caller's wait limit decides. */
  Unavailable: 'unavailable',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** The checks, in the order a verdict reports them: critical first. */
export const CheckName = {
  Health: 'health',
  ErrorCeiling: 'error-ceiling',
  CheckoutStop: 'checkout-stop',
  Errors: 'errors',
  Latency: 'latency',
  FailedPayments: 'failed-payments',
  Limits: 'limits',
  External: 'external',
} as const;
export type CheckName = (typeof CheckName)[keyof typeof CheckName];

/** Why a check or a verdict came out as it did. */
export const Reason = {
  CanaryDown: 'canary-down',
  ErrorCeiling: 'error-ceiling',
  CheckoutStop: 'checkout-stop',
  ErrorRise: 'error-rise',
  LatencyRise: 'latency-rise',
  FailedPaymentsRise: 'failed-payments-rise',
  LimitFailures: 'limit-failures',
  LimitConsecutive: 'limit-consecutive',
  ExternalBreach: 'external-breach',
  EvidenceUnavailable: 'evidence-unavailable',
  /** A latency histogram whose buckets differ between releases or readings. */
  InconsistentHistograms: 'inconsistent-histograms',
  /** The stable release's p95 lies in the +Inf bucket: no finite bound to count slow requests above. */
  NoLatencyBound: 'no-latency-bound',
  InsufficientEvidence: 'insufficient-evidence',
  /** The current step has not yet served the plan's minimum requests on the canary. */
  StepExposure: 'step-exposure',
  /** The stable release is down: the comparison cannot pass while it is (a broken baseline flatters any canary). */
  StableDown: 'stable-down',
  /** No check breached; this is a guard, not evidence of health. */
  WithinLimits: 'within-limits',
  /** The canary has recorded revenue: checkout works. */
  RevenueSeen: 'revenue-seen',
  /** The canary's rate is demonstrably below the plan's negligible rate (a release with next to no errors). */
  NegligibleRate: 'negligible-rate',
  /** Enough evidence that no change of the detectable size is there. */
  NoChange: 'no-change',
  /** Every check passed against the stable release. */
  EvidenceSufficient: 'evidence-sufficient',
  /** First release: no stable release to compare with, and the absolute limits held. */
  NoBaselineWithinLimits: 'no-baseline-within-limits',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** What an inconclusive window does at its end: go on collecting, roll back, or wait for a person. */
export const INCONCLUSIVE_ACTIONS = ['extend', 'rollback', 'pause'] as const;
export type InconclusiveAction = (typeof INCONCLUSIVE_ACTIONS)[number];

/** What the window should do next. `advance`: the next step, or done after the last one. */
export type VerdictAction = 'rollback' | 'advance' | 'continue' | 'wait' | InconclusiveAction;

/** Events and what they are counted against, for one release. */
export interface Counts {
  exposure: number;
  events: number;
}

/** A sequential comparison of one count between the releases (5xx, slow requests, failed payments). */
export interface SequentialEvidence {
  kind: 'sequential';
  /** What is counted per what, e.g. `5xx per request`, `slow (> 250 ms) per request`. */
  measures: string;
  exposureUnit: 'requests' | 'payment attempts';
  canary: Counts;
  stable: Counts;
  /** Intervals that carried evidence (both releases had exposure, at least one event). */
  intervals: number;
  /** ln of the mixture likelihood ratio (canary worse vs no worse): fails at `failThreshold`. */
  logLikelihoodRatio: number;
  /** ln(1 / alpha). */
  failThreshold: number;
  /** ln of the likelihood ratio at the detectable ratio `k`: passes at `passThreshold`. */
  passLogLikelihoodRatio: number;
  /** ln(beta). */
  passThreshold: number;
  /** This check's share of the plan's false-alarm rate. */
  alpha: number;
  beta: number;
  /** The detectable ratio: the canary's rate k× the stable's. */
  k: number;
  /** Events (both releases) a canary like the stable needs, from nothing, to pass at the current weight. */
  minimumEvents: number | null;
  /** Events still missing for a pass, if the rest comes at the stable's rate; null where none accrue (weight 0 or 100). */
  missingEvents: number | null;
  /** The same as exposure (both releases) at the stable's observed rate; null before the stable had events. */
  missingExposure: number | null;
  /** The slow-request bound, for the latency check. */
  slowAboveMs?: number;
}

/** The checkout stop: no revenue from the canary where the stable's rate predicts some. */
export interface CheckoutStopEvidence {
  kind: 'checkout-stop';
  /** Revenue events per request. */
  canary: Counts;
  stable: Counts;
  /** Revenue events the canary would have recorded at the stable's rate, given the traffic split. */
  expectedCanaryEvents: number;
  /** ln(1 / P(no canary revenue | a healthy canary)); null once the canary has recorded revenue. */
  logLikelihoodRatio: number | null;
  failThreshold: number;
  alpha: number;
}

/** Health of both releases at the latest reading. */
export interface HealthEvidence {
  kind: 'health';
  canaryHealthy: boolean;
  stableHealthy?: boolean;
}

/** The canary's 5xx share over its latest requests against the hard ceiling. */
export interface CeilingEvidence {
  kind: 'ceiling';
  requests: number;
  errors: number;
  ceiling: number;
  minRequests: number;
}

/** Argo-style plain limits: measurements of at least `minRequests` canary requests each. */
export interface LimitsEvidence {
  kind: 'limits';
  measurements: number;
  failures: number;
  /** Failed measurements in a row, ending with the latest. */
  consecutiveFailures: number;
  /** Null: no limit on the total (only `consecutiveFailureLimit` was set). */
  failureLimit: number | null;
  consecutiveFailureLimit: number | null;
  /** The latest measurement. */
  last?: { requests: number; errorRate: number; p95LatencyMs: number | null; breached: boolean };
}

/** An external signal against its plain threshold. */
export interface ExternalEvidence {
  kind: 'external';
  name: string;
  value?: number;
  error?: string;
  min?: number;
  max?: number;
}

/** What a check saw. */
export type Evidence =
  | SequentialEvidence
  | CheckoutStopEvidence
  | HealthEvidence
  | CeilingEvidence
  | LimitsEvidence
  | ExternalEvidence;

/** One check's verdict. */
export interface CheckVerdict {
  check: CheckName;
  outcome: Outcome;
  reason: Reason;
  /** One line for a person. */
  detail: string;
  evidence: Evidence;
}

/** The verdict at one reading: the outcome, what to do, why, and every check's evidence. */
export interface Verdict {
  outcome: Outcome;
  action: VerdictAction;
  /** The deciding check's reason (the first fail, critical checks first), or the verdict's own. */
  reason: Reason;
  detail: string;
  /** The check that decided a fail, an unavailable or an inconclusive verdict. */
  decidedBy?: CheckName;
  step: number;
  weight: number;
  /** Canary requests in the current step so far. */
  stepRequests: number;
  /** `none`: a first release, judged on absolute limits only. */
  baseline: 'stable' | 'none';
  /** The plan's overall false-alarm rate (split across the statistical checks) and β. */
  alpha: number;
  beta: number;
  checks: CheckVerdict[];
}
