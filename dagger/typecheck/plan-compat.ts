/**
 * Compile-time only (never loaded by Dagger): the workflow's StagePlan must stay assignable to the
 * plan type the module reads from plans.json, or `npm run typecheck` fails here.
 */
import type { StagePlan } from '../../src/types.js';
import type { ModuleStagePlan } from '../src/plans.js';

/** Fails to compile when StagePlan and ModuleStagePlan drift apart. */
export const planCompat = (plan: StagePlan): ModuleStagePlan => plan;
