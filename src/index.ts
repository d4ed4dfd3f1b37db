/**
 * The `tollgate` package: `defineTollgate()` for configs (also as `tollgate/config`), the types a
 * config and a release are made of, and the worker for programs that embed one.
 */
export { defineTollgate, type TollgateConfigInput } from './config/define.js';
export { createWorker, runWorkers, type StartWorkerOptions } from './worker.js';
export type {
  ReleaseInput,
  ReleaseResult,
  ReleaseStatus,
  SourceRef,
  StagePlan,
  EnvironmentLink,
  EnvironmentPlan,
  RevenuePlan,
} from './types.js';
