/** All activities, built once by the worker from injected parts (tests pass their own). */
import { createArtifactActivities } from './artifacts.js';
import { createEnvironmentActivities, type EnvironmentDeps } from './environments.js';
import { createHealthActivities, type HealthDeps } from './health.js';
import { createStageActivities, type StageDeps } from './stage.js';

/** Everything the activities need from the outside world. */
export type ActivityDeps = StageDeps & EnvironmentDeps & HealthDeps;

/** Builds the activity map the worker registers. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStageActivities(deps),
    ...createArtifactActivities(),
    ...createEnvironmentActivities(deps),
    ...createHealthActivities(deps),
  };
}

/** The activity interface workflows proxy (type only). */
export type Activities = ReturnType<typeof createActivities>;
