/**
 * Schema 1 statuses (results and failure details of runs started by Tollgate 0.1) in the schema 2
 * shape, so `status`, `watch`, `history` and `stats` read every run alike. Pure; for readers only.
 */
import type { EnvironmentProgress, ReleasePhase, ReleaseStatus } from '../../types.js';
import type { ReleasePhase as ReleasePhaseV1, ReleaseStatus as ReleaseStatusV1 } from './types.js';

const PHASES: Record<ReleasePhaseV1, { phase: ReleasePhase; environment?: string }> = {
  starting: { phase: 'starting' },
  checks: { phase: 'stages' },
  'revenue-gates': { phase: 'stages' },
  build: { phase: 'stages' },
  staging: { phase: 'deploying', environment: 'staging' },
  'awaiting-promotion': { phase: 'awaiting-promotion', environment: 'production' },
  production: { phase: 'deploying', environment: 'production' },
  verifying: { phase: 'verifying', environment: 'production' },
  compensating: { phase: 'compensating' },
  succeeded: { phase: 'succeeded' },
  failed: { phase: 'failed' },
  'rolled-back': { phase: 'rolled-back' },
  cancelled: { phase: 'cancelled' },
};

/** A status of either schema, as schema 2. */
export function toSchema2(status: ReleaseStatus | ReleaseStatusV1): ReleaseStatus {
  if ('schemaVersion' in status && status.schemaVersion === 2) return status;
  const old = status as ReleaseStatusV1;
  const { phase, environment } = PHASES[old.phase] ?? { phase: old.phase as ReleasePhase };
  // Schema 1 had one gate and one window, both about production.
  const production: EnvironmentProgress = {
    ...(old.gate ? { gate: old.gate } : {}),
    ...(old.verification ? { verification: old.verification } : {}),
  };
  return {
    schemaVersion: 2,
    app: old.app,
    source: { repository: '', commit: old.ref, tree: null, subdir: '', revision: old.ref },
    phase,
    ...(environment ? { environment } : {}),
    stages: { ...old.stages },
    environments: { staging: {}, production },
    compensations: old.compensations,
    ...(old.artifact ? { artifact: old.artifact } : {}),
    ...(old.failure ? { failure: old.failure } : {}),
    ...(old.releaseId ? { releaseId: old.releaseId } : {}),
    audit: old.audit,
  };
}
