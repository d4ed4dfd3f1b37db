/**
 * What the Temporal UI shows of a release: the search attribute keys (declared once, for the client
 * and the workflow) and the run's live details as markdown. Pure: no workflow APIs, so the client
 * imports it too.
 */
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
  type TypedSearchAttributes,
} from '@temporalio/common';
import { SEARCH_ATTRIBUTES, WAIT_STAGES } from '../constants.js';
import type {
  CanaryProgress,
  EnvironmentLink,
  ReleaseInput,
  ReleaseResult,
  ReleaseStatus,
  SourceSummary,
  StageStatus,
  VerificationSample,
} from '../types.js';

/** Typed keys of Tollgate's search attributes (all Keyword; `tollgate dev` and the test servers register them). */
export const SEARCH_KEYS = {
  app: defineSearchAttributeKey(SEARCH_ATTRIBUTES.app, SearchAttributeType.KEYWORD),
  environment: defineSearchAttributeKey(SEARCH_ATTRIBUTES.environment, SearchAttributeType.KEYWORD),
  revision: defineSearchAttributeKey(SEARCH_ATTRIBUTES.revision, SearchAttributeType.KEYWORD),
  tree: defineSearchAttributeKey(SEARCH_ATTRIBUTES.tree, SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey(SEARCH_ATTRIBUTES.stage, SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome, SearchAttributeType.KEYWORD),
} as const;

/** TollgateOutcome: `running` until the run ends. */
export type UiOutcome = 'running' | ReleaseResult['outcome'];

/** A release's search attribute values. */
export interface ReleaseSearch {
  app: string;
  /** The environment the run works on: '' before the first one. */
  environment: string;
  /** The full commit SHA. */
  revision: string;
  /** The commit's tree hash ('' until the worker has read it, when the client could not). */
  tree: string;
  /** The stage running now (the first declared, when several run), or the wait: `promotion-gate`, `verification`. */
  stage: string;
  outcome: UiOutcome;
}

/** The values a release starts with; `tollgate run` passes them as `typedSearchAttributes`. */
export function initialSearch(input: Pick<ReleaseInput, 'app' | 'source' | 'stages'>): ReleaseSearch {
  return {
    app: input.app,
    environment: '',
    revision: input.source.commit,
    tree: input.source.tree ?? '',
    stage: input.stages[0]?.name ?? WAIT_STAGES.starting,
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

/** TollgateStage for a status: the first running stage, else the wait the phase names, else `previous`. */
export function stageAttribute(status: ReleaseStatus, previous: string): string {
  const running = Object.entries(status.stages).find(([, s]) => s.state === 'running');
  if (running) return running[0];
  if (status.phase === 'awaiting-promotion') return WAIT_STAGES.gate;
  if (status.phase === 'verifying') return WAIT_STAGES.verification;
  return previous;
}

/** `3f2a9c1d4e5b` or `3f2a9c1d4e5b (dirty: 2 files on 1a2b3c4d5e6f)`: a commit as people read it. */
export function describeSource(source: Pick<SourceSummary, 'commit' | 'dirty'>): string {
  const commit = source.commit.slice(0, 12);
  if (!source.dirty) return commit;
  const files = source.dirty.files.length;
  return `${commit} (dirty: ${files} uncommitted file${files === 1 ? '' : 's'} on ${source.dirty.base.slice(0, 12)})`;
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
  context: { workflowId: string; links: readonly EnvironmentLink[] },
): string {
  const where = [
    `**phase** ${status.phase}`,
    `**stage** ${search.stage}`,
    `**environment** ${search.environment || 'none yet'}`,
    ...(search.outcome === 'running' ? [] : [`**outcome** ${search.outcome}`]),
  ];
  // The UI shows the first dozen lines without scrolling: where the run is and what it waits on come first.
  const lines = [
    `### ${status.app} @ \`${describeSource(status.source)}\`${status.releaseId ? ` · ${status.releaseId}` : ''}`,
    where.join(' · '),
  ];
  const running = Object.entries(status.stages).filter(([, s]) => s.state === 'running');
  if (running.length > 0) {
    lines.push('', ...running.map(([name, s]) => `- ${ICONS.running} ${name}${stageNote(s)}`));
  }
  for (const link of context.links) {
    const progress = status.environments[link.environment.name];
    const gate = progress?.gate;
    if (gate && (gate.state === 'waiting' || link.promotion.mode === 'manual')) {
      lines.push(
        '',
        `**Gate before ${link.environment.name}** ${gateLine(status, link, context.workflowId)}`,
      );
    }
    if (progress?.canary) lines.push('', ...canaryLines(link.environment.name, progress.canary, '**'));
    const window = progress?.verification;
    if (window) {
      const latest = window.samples.at(-1);
      lines.push(
        '',
        `**Verification of ${link.environment.name}**${window.endsAt ? ` window ends ${time(window.endsAt)}` : ''} · ${window.samples.length} sample${window.samples.length === 1 ? '' : 's'}`,
        '',
        ...(latest ? [`- latest (${time(latest.at)}): ${sampleLine(latest)}`] : []),
        ...(window.baseline
          ? [`- baseline (${time(window.baseline.at)}): ${sampleLine(window.baseline)}`]
          : []),
      );
    }
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
    `**Stages**${status.until ? ` (until ${status.until})` : ''}`,
    '',
    ...Object.entries(status.stages).map(([name, s]) => `- ${ICONS[s.state]} ${name}${stageNote(s)}`),
    '',
    `**Source** \`${status.source.commit}\` (tree \`${status.source.tree ?? 'not read yet'}\`) of ${status.source.repository}${status.source.subdir ? `, folder ${status.source.subdir}` : ''}; asked for ${status.source.revision}`,
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

/**
 * A canary window in lines: where it is, what it is compared with, the latest verdict with α and
 * each check's evidence, and every step's decision. `bold` wraps the heading (markdown in the UI).
 */
export function canaryLines(environment: string, canary: CanaryProgress, bold = ''): string[] {
  const at =
    canary.steps.length > 1
      ? `step ${canary.step + 1} of ${canary.steps.length} at ${canary.weight} %`
      : `${canary.weight} %`;
  const against = canary.stable
    ? `against ${canary.stable}`
    : 'no baseline (a first release): judged on absolute limits only';
  const v = canary.verdict;
  return [
    `${bold}Canary of ${environment}${bold} ${canary.state}, ${at} since ${time(canary.stepStartedAt)}, ${against}; ${canary.readings} readings${syntheticNote(canary)}`,
    ...(canary.window && canary.state === 'running'
      ? [`- live in its window workflow ${canary.window}`]
      : []),
    ...(v
      ? [
          `- verdict: ${v.outcome} → ${v.action} [${v.reason}] ${v.detail} (α ${v.alpha}, β ${v.beta}; ${v.stepRequests} canary requests this step)`,
          ...v.checks.map((c) => `  - ${c.check}: ${c.outcome} [${c.reason}] ${c.detail}`),
        ]
      : []),
    ...(canary.decided.length > 0
      ? [`- steps: ${canary.decided.map((d) => `${d.weight} % ${d.outcome} [${d.reason}]`).join(' → ')}`]
      : []),
  ];
}

/** `; synthetic: canary 40 %, stable 10 %` where probes topped the traffic up. */
export function syntheticNote(canary: CanaryProgress): string {
  const s = canary.synthetic;
  const refused = canary.paymentProbesOff;
  const note = refused ? `; payment probes off: ${refused}` : '';
  if (!s || (s.canary === 0 && !s.stable)) return note;
  const pct = (share: number): string => `${Math.round(share * 100)} %`;
  const payments =
    s.payments && (s.payments.canary > 0 || s.payments.stable)
      ? `; payments: canary ${pct(s.payments.canary)}${s.payments.stable === null ? '' : `, stable ${pct(s.payments.stable)}`}`
      : '';
  return `; synthetic (probes): canary ${pct(s.canary)}${s.stable === null ? '' : `, stable ${pct(s.stable)}`}${payments}${note}`;
}

function gateLine(status: ReleaseStatus, link: EnvironmentLink, workflowId: string): string {
  const gate = status.environments[link.environment.name]!.gate!;
  const approvers = link.promotion.approvers.length ? link.promotion.approvers.join(', ') : 'anyone';
  if (gate.state === 'waiting') {
    const lastRequest = [...status.audit]
      .reverse()
      .find((a) => a.action === 'promote' || a.action === 'rollback');
    return [
      `waiting since ${time(gate.since)}; times out at ${time(gate.timeoutAt)} (then ${link.promotion.onTimeout})`,
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
    ...(s.revenueEvents === null ? [] : [`revenue events ${s.revenueEvents}`]),
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
