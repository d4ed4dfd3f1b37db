/** Queries, updates and signals of the release workflow, shared with the client. */
import { defineQuery } from '@temporalio/workflow';
import type { ReleaseStatus } from '../types.js';

/** The run's phase and every stage's state, attempts, times and summary. */
export const statusQuery = defineQuery<ReleaseStatus>('status');
