/**
 * GitHub Actions workflow commands (a group per stage, an error annotation per failed stage) and the
 * job summary, for `run --wait` and `wait` in a GitHub job. Formatting only, apart from the append
 * to $GITHUB_STEP_SUMMARY; escaping follows the runner's rules (docs: "Workflow commands for GitHub
 * Actions"): `%`, CR and LF in a message, and also `:` and `,` in a property.
 */
import { appendFileSync } from 'node:fs';
import type { ReleaseStatus, StageStatus } from '../types.js';
import { describeSource } from '../workflows/ui.js';
import type { RunOutcome } from './json.js';
import {
  describeLog,
  firstLine,
  logLocation,
  outcomeWords,
  tailLines,
  type LogLocation,
  type RunRef,
} from './progress.js';

/** True in a GitHub Actions job (the runner sets GITHUB_ACTIONS=true). */
export function underGitHubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** A command's message, escaped so the runner reads it back as it was: `%`, CR and LF. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A command property's value (e.g. `title=`): escaped as a message, and `:` and `,` too. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Opens a collapsible group of log lines titled `title`. */
export function groupStart(title: string): string {
  return `::group::${escapeData(title)}`;
}

/** Closes the open group. */
export const GROUP_END = '::endgroup::';

/** An error annotation: shown on the run's summary page and beside the line in the log. */
export function errorAnnotation(title: string, message: string): string {
  return `::error title=${escapeProperty(title)}::${escapeData(message)}`;
}

/** How many of a failed stage's last lines its annotation carries (the log shows all it has). */
const ANNOTATION_TAIL_LINES = 10;

/** The annotation of a failed stage: its reason, its last lines and where its full log is. */
export function stageAnnotation(stage: string, status: StageStatus, run: RunRef): string {
  const reason = status.summary ?? `${stage} failed`;
  const tail = tailLines(status, ANNOTATION_TAIL_LINES);
  const log = status.logTail || status.logPath ? [describeLog(logLocation(stage, status, run))] : [];
  return errorAnnotation(stage, [reason, ...tail, ...log].join('\n'));
}

/** What the job summary reports about a run. */
export interface JobSummary {
  workflowId: string;
  runId?: string;
  /** The run's page in the Temporal UI. */
  url: string;
  outcome: RunOutcome;
  status: ReleaseStatus | undefined;
  message?: string;
  /** The gate the run waits at (`--until-gate`). */
  gate?: { environment: string; timeoutAt: string };
}

/** The job summary's markdown: a row per stage linking the run, then each failed stage's last lines. */
export function jobSummary(summary: JobSummary): string {
  const { status, workflowId, url } = summary;
  const run: RunRef = { workflowId, ...(summary.runId ? { runId: summary.runId } : {}) };
  const head = status
    ? `### Tollgate: ${status.app} @ \`${describeSource(status.source)}\` — ${outcomeWords(summary.outcome)}`
    : `### Tollgate: ${workflowId} — ${outcomeWords(summary.outcome)}`;
  const stages = Object.entries(status?.stages ?? {});
  const rows = stages.map(
    ([name, s]) =>
      `| [${cell(name)}](${url}) | ${s.state} | ${s.attempts} | ${seconds(s)} | ${details(name, s, run)} |`,
  );
  const tails = stages
    .filter(([, s]) => s.state === 'failed' && s.logTail)
    .flatMap(([name, s]) => [
      `<details open><summary>${html(name)}: last lines of the log</summary>`,
      '',
      ...fenced(tailLines(s)),
      '',
      '</details>',
      '',
    ]);
  const gate = summary.gate
    ? [
        `Waiting at the gate before **${summary.gate.environment}** until ${summary.gate.timeoutAt}:`,
        '',
        `- promote: \`tollgate promote ${workflowId} --by <you>\``,
        `- follow it: \`tollgate wait ${workflowId}\``,
        '',
      ]
    : [];
  const lines = [
    head,
    '',
    ...(rows.length
      ? ['| stage | state | attempts | duration | details |', '| --- | --- | --- | --- | --- |', ...rows, '']
      : []),
    ...(summary.message ? [`> ${firstLine(summary.message, 400)}`, ''] : []),
    ...tails,
    ...gate,
    `[${workflowId} in the Temporal UI](${url})`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/** Appends the job summary to $GITHUB_STEP_SUMMARY, when the job has one. */
export function appendJobSummary(summary: JobSummary, env: NodeJS.ProcessEnv = process.env): void {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  appendFileSync(file, jobSummary(summary));
}

/** A failed stage's reason and log; a passed stage's summary. */
function details(stage: string, s: StageStatus, run: RunRef): string {
  const reason = s.summary ? cell(firstLine(s.summary)) : '';
  if (s.state !== 'failed' || (!s.logTail && !s.logPath)) return reason;
  const where: LogLocation = logLocation(stage, s, run);
  const log = where.onWorker
    ? `log ${code(where.onWorker)} on the worker (${code(where.inHome)})`
    : `log ${code(where.inHome)}`;
  return reason ? `${reason}<br>${log}` : log;
}

function seconds(s: StageStatus): string {
  return s.startedAt && s.endedAt
    ? `${((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s`
    : '–';
}

/** Text in a table cell: no pipes or line breaks to break the row. */
function cell(text: string): string {
  return html(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A code span that holds any text (a fence longer than its longest run of backticks). */
function code(text: string): string {
  const ticks = '`'.repeat(longestRun(text) + 1);
  return `${ticks}${text.includes('`') ? ` ${text} ` : text}${ticks}`.replace(/\|/g, '\\|');
}

/** A fenced block that holds any lines. */
function fenced(lines: string[]): string[] {
  const fence = '`'.repeat(Math.max(3, longestRun(lines.join('\n')) + 1));
  return [`${fence}text`, ...lines, fence];
}

function longestRun(text: string): number {
  return Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
}

/** Text with the characters HTML would read escaped (summaries and stage names outside code). */
function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
