/**
 * Verification verdicts: a canary judged against the stable release from per-release cumulative
 * counts, with a stated false-alarm rate that holds although it is checked at every interval. Pure:
 * safe in workflow code.
 */
export { judge, judgeWindow, runChecks, type JudgeInput } from './verdict.js';
export {
  MAX_RECENT_READINGS,
  addReading,
  portableWindow,
  restoreWindow,
  startWindow,
  windowOf,
  type PortableWindow,
  type WindowState,
} from './window.js';
export {
  DEFAULT_PLAN,
  checkAlpha,
  statisticalChecks,
  verdictPlan,
  type DetectableRatios,
  type ExternalLimit,
  type PlainLimits,
  type VerdictPlan,
  type VerdictPlanInput,
} from './plan.js';
export * from './outcomes.js';
export * from './readings.js';
export {
  alternativeShare,
  bernoulliKl,
  driftPerEvent,
  eventsToFail,
  eventsToPass,
  forecast,
  type Crossing,
  type Forecast,
  type ScheduleStep,
} from './power.js';
export {
  addInterval,
  intervalLogLr,
  mixtureLogLr,
  mixtureOf,
  nullShare,
  startComparison,
  type Alternative,
  type Comparison,
} from './sequential.js';
export { quantileBound, quantileMs, type IntervalCounts } from './counts.js';
