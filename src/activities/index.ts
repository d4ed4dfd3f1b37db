/** All activities, built once by the worker from injected parts (tests pass their own). */
import { createApprovalActivities } from './approvals.js';
import { createArtifactActivities } from './artifacts.js';
import { createDaggerSmokeActivities } from './dagger-smoke.js';
import { createEnvironmentActivities, type EnvironmentDeps } from './environments.js';
import { createHealthActivities, type HealthDeps } from './health.js';
import { createNotifyActivities, type NotifyDeps } from './notify.js';
import { createSourceActivities } from './source.js';
import { createStageActivities, type StageDeps } from './stage.js';

/** Everything the activities need from the outside world. */
export type ActivityDeps = StageDeps & EnvironmentDeps & HealthDeps & NotifyDeps;

/** Builds the activity map the worker registers. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSourceActivities(deps),
    ...createStageActivities(deps),
    ...createArtifactActivities(),
    ...createDaggerSmokeActivities(),
    ...createApprovalActivities(deps),
    ...createEnvironmentActivities(deps),
    ...createHealthActivities(deps),
    ...createNotifyActivities(deps),
  };
}

/** The activity interface workflows proxy (type only). */
export type Activities = ReturnType<typeof createActivities>;
