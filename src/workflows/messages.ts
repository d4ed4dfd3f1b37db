/** Queries, updates and signals of the release workflow, shared with the client. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CanaryProgress, DecisionArgs, DecisionResult, ReleaseStatus } from '../types.js';

/** The run's phase and every stage's state, attempts, times and summary. */
export const statusQuery = defineQuery<ReleaseStatus>('status');

/** A canary window's live progress (its child workflow's query; `queryStatus` merges it into the release's status). */
export const canaryQuery = defineQuery<CanaryProgress>('canary');

/**
 * Promote the release past the gate; an update, not a signal: the caller learns at once if it was refused.
 * Where the worker holds approver keys (TOLLGATE_APPROVER_KEYS), the args must carry the approver's signature.
 */
export const promoteUpdate = defineUpdate<DecisionResult, [DecisionArgs]>('promote');

/** Roll the release back (at the gate or during the verification window). */
export const rollbackUpdate = defineUpdate<DecisionResult, [DecisionArgs]>('rollback');

/**
 * The same as promoteUpdate, for the Temporal UI's signal dialog; a refused signal is audited, not applied.
 * Where approvals must be signed, every signal is refused and audited: the UI has no secret to sign with.
 */
export const promoteSignal = defineSignal<[DecisionArgs]>('promote');

/** The same as rollbackUpdate, for the Temporal UI's signal dialog. */
export const rollbackSignal = defineSignal<[DecisionArgs]>('rollback');
