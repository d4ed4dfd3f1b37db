/** The stats as one self-contained HTML page: inline CSS and inline SVG charts, nothing fetched. Pure. */
import { formatDuration, formatPerDay, formatRate } from './format.js';
import type { DailyOutcomes, PipelineMetrics, StageMetrics } from './metrics.js';

const COLORS = {
  p50: '#4c78a8',
  p95: '#9ecae9',
  succeeded: '#54a24b',
  failed: '#e45756',
  rolledBack: '#f58518',
  cancelled: '#9d9d9d',
} as const;

const OUTCOMES = [
  ['succeeded', 'succeeded'],
  ['failed', 'failed'],
  ['rolledBack', 'rolled back'],
  ['cancelled', 'cancelled'],
] as const;

/** Escapes text for HTML and SVG (element content and quoted attributes). */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Renders the report. */
export function renderHtml(metrics: PipelineMetrics): string {
  const m = metrics;
  const title = `Tollgate stats: ${m.app ?? 'all apps'}, ${day(m.window.from)} to ${day(m.window.to)}`;
  const rows: [string, string, string][] = [
    [
      'Deployment frequency',
      formatPerDay(m.deploymentFrequency.perDay),
      `${m.deploymentFrequency.deployments} production deployments in ${round(m.window.days)} days`,
    ],
    [
      'Lead time for changes',
      `median ${formatDuration(m.leadTime.p50Ms)}`,
      `p95 ${formatDuration(m.leadTime.p95Ms)} over ${m.leadTime.count} deployments${m.leadTime.fromRunStart.length ? ` (${m.leadTime.fromRunStart.length} from run start: no git commit)` : ''}`,
    ],
    [
      'Change failure rate',
      formatRate(m.changeFailureRate.rate),
      `${m.changeFailureRate.numerator} of ${m.changeFailureRate.denominator} releases that reached production (breach ${m.changeFailureRate.breach}, operator ${m.changeFailureRate.operator}, reverted ${m.changeFailureRate.reverted}, other ${m.changeFailureRate.other})`,
    ],
    [
      'Time to restore',
      `median ${formatDuration(m.timeToRestore.p50Ms)}`,
      `p95 ${formatDuration(m.timeToRestore.p95Ms)} over ${m.timeToRestore.count} restores`,
    ],
    [
      'Success rate',
      formatRate(m.successRate.rate),
      `${m.successRate.numerator} of ${m.successRate.denominator} finished runs`,
    ],
    [
      'Pipeline time',
      `mean ${formatDuration(m.pipelineTime.meanMs)}`,
      `median ${formatDuration(m.pipelineTime.p50Ms)}, p95 ${formatDuration(m.pipelineTime.p95Ms)}`,
    ],
  ];
  const stageRows = m.stages
    .map(
      (s) =>
        `<tr><td>${escapeXml(s.stage)}</td><td>${s.succeeded}</td><td>${s.failed}</td><td>${s.skipped}</td><td>${formatDuration(s.p50Ms)}</td><td>${formatDuration(s.p95Ms)}</td></tr>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { text-align: left; padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; }
td.figure { font-weight: 600; white-space: nowrap; }
.legend span { display: inline-block; margin-right: 1em; }
.legend i { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; vertical-align: -0.1em; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p>${m.runs.finished} finished runs (${m.runs.succeeded} succeeded, ${m.runs.failed} failed, ${m.runs.rolledBack} rolled back, ${m.runs.cancelled} cancelled)${m.runs.running ? `, ${m.runs.running} in flight` : ''}. Window ${escapeXml(m.window.from)} to ${escapeXml(m.window.to)}.</p>
<table id="figures">
<tr><th>Metric</th><th>Value</th><th>Detail</th></tr>
${rows.map(([name, value, detail]) => `<tr><td>${escapeXml(name)}</td><td class="figure">${escapeXml(value)}</td><td>${escapeXml(detail)}</td></tr>`).join('\n')}
</table>
<p id="summary">Summary: success rate ${formatRate(m.summary.successRate)}, average pipeline time ${formatDuration(m.summary.averagePipelineTimeMs)}, deployment frequency ${formatPerDay(m.summary.deploymentFrequencyPerDay)}.</p>
<h2>Stage durations (p50 and p95)</h2>
${legend([
  ['p50', COLORS.p50],
  ['p95', COLORS.p95],
])}
${stageChart(m.stages)}
<table id="stages">
<tr><th>Stage</th><th>Succeeded</th><th>Failed</th><th>Skipped</th><th>p50</th><th>p95</th></tr>
${stageRows}
</table>
<h2>Outcomes per day (UTC, by start)</h2>
${legend([
  ['succeeded', COLORS.succeeded],
  ['failed', COLORS.failed],
  ['rolled back', COLORS.rolledBack],
  ['cancelled', COLORS.cancelled],
])}
${timelineChart(m.daily)}
${m.notes.length ? `<h2>Notes</h2>\n<ul>\n${m.notes.map((n) => `<li>${escapeXml(n)}</li>`).join('\n')}\n</ul>` : ''}
</body>
</html>
`;
}

function legend(items: [string, string][]): string {
  return `<p class="legend">${items.map(([name, color]) => `<span><i style="background:${color}"></i>${escapeXml(name)}</span>`).join('')}</p>`;
}

/** Horizontal bars: per stage, p50 above p95, on one scale. */
function stageChart(stages: readonly StageMetrics[]): string {
  const label = 190;
  const plot = 380;
  const row = 34;
  const height = Math.max(1, stages.length) * row + 10;
  const width = label + plot + 90;
  const max = Math.max(1, ...stages.map((s) => s.p95Ms ?? 0));
  const bar = (value: number | null, y: number, color: string): string => {
    const length = value === null ? 0 : round((value / max) * plot);
    return (
      `<rect x="${label}" y="${y}" width="${length}" height="12" fill="${color}"/>` +
      `<text x="${round(label + length + 4)}" y="${y + 10}">${escapeXml(formatDuration(value))}</text>`
    );
  };
  const body =
    stages.length === 0
      ? `<text x="10" y="24">no finished runs in the window</text>`
      : stages
          .map((s, i) => {
            const y = 6 + i * row;
            return `<g><text x="0" y="${y + 18}">${escapeXml(s.stage)}</text>${bar(s.p50Ms, y, COLORS.p50)}${bar(s.p95Ms, y + 14, COLORS.p95)}</g>`;
          })
          .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" id="stage-chart" role="img" aria-label="Stage durations, p50 and p95" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="11" font-family="system-ui, sans-serif">
${body}
</svg>`;
}

/** Stacked bars, one per UTC day: succeeded, failed, rolled back, cancelled. */
function timelineChart(daily: readonly DailyOutcomes[]): string {
  const plotHeight = 140;
  const barWidth = Math.max(4, Math.min(40, Math.floor(720 / Math.max(1, daily.length))));
  const gap = Math.max(1, Math.round(barWidth / 5));
  const left = 30;
  const width = left + daily.length * (barWidth + gap) + 10;
  const height = plotHeight + 40;
  const max = Math.max(1, ...daily.map((d) => d.succeeded + d.failed + d.rolledBack + d.cancelled));
  const labelEvery = Math.ceil(daily.length / 10);
  const bars = daily.map((d, i) => {
    const x = left + i * (barWidth + gap);
    let y = plotHeight + 10;
    const segments = OUTCOMES.filter(([k]) => d[k] > 0)
      .map(([k, name]) => {
        const h = round((d[k] / max) * plotHeight);
        y -= h;
        return `<rect x="${x}" y="${round(y)}" width="${barWidth}" height="${h}" fill="${COLORS[k]}"><title>${d.date}: ${d[k]} ${name}</title></rect>`;
      })
      .join('');
    const tick =
      i % labelEvery === 0 ? `<text x="${x}" y="${plotHeight + 26}">${d.date.slice(5)}</text>` : '';
    return `<g>${segments}${tick}</g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" id="timeline-chart" role="img" aria-label="Outcomes per day" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="10" font-family="system-ui, sans-serif">
<line x1="${left - 2}" y1="${plotHeight + 10}" x2="${width}" y2="${plotHeight + 10}" stroke="#999"/>
<text x="0" y="18">${max}</text><text x="0" y="${plotHeight + 10}">0</text>
${bars.join('\n')}
</svg>`;
}

function day(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
