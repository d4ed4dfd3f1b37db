/**
 * What the Temporal UI shows of a release: the search attribute keys (declared once, for the client
 * and the workflow) and the run's live details as markdown, for schema 1 runs.
 *
 * FROZEN (schema 1): runs started by Tollgate 0.1 clients, and every history they recorded, replay
 * on this code, so its commands must never change; see ./README.md. New work goes to ../release/.
 */
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
  type TypedSearchAttributes,
} from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../constants.js';
import { REVENUE_GATES, type StageName } from './types.js';
import type {
  PromotionPlan,
  ReleaseInput,
  ReleaseResult,
  ReleaseStatus,
  StageStatus,
  VerificationSample,
} from './types.js';

/** Typed keys of Tollgate's search attributes (all Keyword; `tollgate dev` and the test servers register them). */
export const SEARCH_KEYS = {
  app: defineSearchAttributeKey(SEARCH_ATTRIBUTES.app, SearchAttributeType.KEYWORD),
  environment: defineSearchAttributeKey(SEARCH_ATTRIBUTES.environment, SearchAttributeType.KEYWORD),
  revision: defineSearchAttributeKey(SEARCH_ATTRIBUTES.revision, SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey(SEARCH_ATTRIBUTES.stage, SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome, SearchAttributeType.KEYWORD),
} as const;

/** TollgateStage: the stage running now, or the point between stages the run waits at. */
export type UiStage = StageName | 'starting' | 'revenue-gates' | 'promotion-gate' | 'verification';

/** TollgateOutcome: `running` until the run ends. */
export type UiOutcome = 'running' | ReleaseResult['outcome'];

/** A release's search attribute values. */
export interface ReleaseSearch {
  app: string;
  /** The environment the run works on: '' before staging. */
  environment: '' | 'staging' | 'production';
  revision: string;
  stage: UiStage;
  outcome: UiOutcome;
}

/** The values a release starts with; `tollgate run` passes them as `typedSearchAttributes`. */
export function initialSearch(input: Pick<ReleaseInput, 'app' | 'ref' | 'stages'>): ReleaseSearch {
  return {
    app: input.app,
    environment: '',
    revision: input.ref,
    stage: input.stages[0]?.name ?? 'starting',
    outcome: 'running',
  };
}

/** The search attributes as typed pairs, for `typedSearchAttributes` and `upsertSearchAttributes`. */
export function searchAttributePairs(search: ReleaseSearch): SearchAttributePair[] {
  return (Object.keys(SEARCH_KEYS) as (keyof ReleaseSearch)[]).map((name) => ({
    key: SEARCH_KEYS[name],
    value: search[name],
  }));
}

/** The pairs whose value differs from what the run has now: what an upsert must send. */
export function changedPairs(search: ReleaseSearch, current: TypedSearchAttributes): SearchAttributePair[] {
  return searchAttributePairs(search).filter((pair) => current.get(pair.key) !== pair.value);
}

/** TollgateStage while `name` runs: the revenue gates run together, so they share one value. */
export function uiStageOf(name: StageName): UiStage {
  return (REVENUE_GATES as readonly StageName[]).includes(name) ? 'revenue-gates' : name;
}

const ICONS: Record<StageStatus['state'], string> = {
  pending: '○',
  running: '▶',
  succeeded: '✓',
  failed: '✗',
  skipped: '–',
  compensated: '↺',
};

/** The run's current details (markdown): where it is, every stage, the gate and the latest verification sample. */
export function renderDetails(
  status: ReleaseStatus,
  search: ReleaseSearch,
  context: { workflowId: string; promotion?: PromotionPlan },
): string {
  const where = [
    `**phase** ${status.phase}`,
    `**stage** ${search.stage}`,
    `**environment** ${search.environment || 'none yet'}`,
    ...(search.outcome === 'running' ? [] : [`**outcome** ${search.outcome}`]),
  ];
  // The UI shows the first dozen lines without scrolling: where the run is and what it waits on come first.
  const lines = [
    `### ${status.app} @ \`${status.ref.slice(0, 12)}\`${status.releaseId ? ` · ${status.releaseId}` : ''}`,
    where.join(' · '),
  ];
  const running = Object.entries(status.stages).filter(([, s]) => s.state === 'running');
  if (running.length > 0) {
    lines.push('', ...running.map(([name, s]) => `- ${ICONS.running} ${name}${stageNote(s)}`));
  }
  if (status.gate)
    lines.push('', `**Promotion gate** ${gateLine(status, context.workflowId, context.promotion)}`);
  if (status.verification) {
    const { baseline, samples, endsAt } = status.verification;
    const latest = samples.at(-1);
    lines.push(
      '',
      `**Verification**${endsAt ? ` window ends ${time(endsAt)}` : ''} · ${samples.length} sample${samples.length === 1 ? '' : 's'}`,
      '',
      ...(latest ? [`- latest (${time(latest.at)}): ${sampleLine(latest)}`] : []),
      ...(baseline ? [`- baseline (${time(baseline.at)}): ${sampleLine(baseline)}`] : []),
    );
  }
  if (status.failure) lines.push('', `**Failure** ${status.failure}`);
  if (status.compensations.length > 0) {
    lines.push(
      '',
      `**Undone** ${status.compensations.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}${c.error ? ` (${c.error})` : ''}`).join(', ')}`,
    );
  }
  lines.push(
    '',
    '**Stages**',
    '',
    ...Object.entries(status.stages).map(([name, s]) => `- ${ICONS[s.state]} ${name}${stageNote(s)}`),
  );
  return lines.join('\n');
}

function stageNote(s: StageStatus): string {
  if (s.state === 'running')
    return ` — running since ${time(s.startedAt)}${s.attempts > 1 ? `, attempt ${s.attempts}` : ''}`;
  const took =
    s.startedAt && s.endedAt
      ? ` (${((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s)`
      : '';
  const attempts = s.attempts > 1 ? `, ${s.attempts} attempts` : '';
  return s.summary ? ` — ${firstLine(s.summary)}${took}${attempts}` : took;
}

function gateLine(status: ReleaseStatus, workflowId: string, promotion?: PromotionPlan): string {
  const gate = status.gate!;
  const approvers = promotion?.approvers.length ? promotion.approvers.join(', ') : 'anyone';
  if (gate.state === 'waiting') {
    const lastRequest = [...status.audit]
      .reverse()
      .find((a) => a.action === 'promote' || a.action === 'rollback');
    return [
      `waiting since ${time(gate.since)}; times out at ${time(gate.timeoutAt)}${promotion ? ` (then ${promotion.onTimeout})` : ''}`,
      '',
      `- approvers: ${approvers}`,
      `- decide with \`tollgate promote|rollback ${workflowId} --by <name>\`, or the UI's signal \`promote\`/\`rollback\` with \`{"by": "<name>"}\``,
      ...(lastRequest
        ? [
            `- last request: ${lastRequest.action} by ${lastRequest.by || '?'}, ${lastRequest.outcome}${lastRequest.outcome === 'refused' ? ` (${lastRequest.reason.replace(/^refused: /, '')})` : ''}`,
          ]
        : []),
    ].join('\n');
  }
  return `${gate.state}${gate.decidedBy ? ` by ${gate.decidedBy}` : ''}${gate.reason ? `: ${gate.reason}` : ''} (waited since ${time(gate.since)}; approvers: ${approvers})`;
}

function sampleLine(s: VerificationSample): string {
  const parts = [
    s.healthy ? 'healthy' : 'UNHEALTHY',
    `${s.requests} requests`,
    `error rate ${(s.errorRate * 100).toFixed(1)} %`,
    `p95 ${s.p95LatencyMs === null ? '–' : `${Math.round(s.p95LatencyMs)} ms`}`,
    `revenue events ${s.revenueEvents ?? '–'}`,
  ];
  return `${parts.join(', ')}${s.breach ? ` — **breach** ${s.breach.signal}: ${s.breach.detail}` : ''}`;
}

/** `HH:MM:SS UTC` of an ISO time: the UI shows the date already. */
function time(iso: string | undefined): string {
  return iso ? `${iso.slice(11, 19)} UTC` : '?';
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}
