/**
 * The messages of schema 1 runs: the same names as ../messages.ts (clients call them alike), typed
 * with the schema 1 status and decision result.
 *
 * FROZEN (schema 1): see ./README.md.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionArgs, DecisionResult, ReleaseStatus } from './types.js';

export const statusQuery = defineQuery<ReleaseStatus>('status');
export const promoteUpdate = defineUpdate<DecisionResult, [DecisionArgs]>('promote');
export const rollbackUpdate = defineUpdate<DecisionResult, [DecisionArgs]>('rollback');
export const promoteSignal = defineSignal<[DecisionArgs]>('promote');
export const rollbackSignal = defineSignal<[DecisionArgs]>('rollback');
