/** Renders the status query as lines: one per stage transition, for `run --wait` and `watch`. */
import type { ReleaseStatus, StageStatus } from '../types.js';

const MARK: Record<StageStatus['state'], string> = {
  pending: '·',
  running: '▶',
  succeeded: '✓',
  failed: '✗',
  skipped: '-',
  compensated: '↺',
};

/** Remembers what it has printed and returns only the new transitions. */
export class ProgressPrinter {
  private readonly seen = new Map<string, string>();
  private phase = '';

  /** Lines describing what changed since the last call. */
  update(status: ReleaseStatus): string[] {
    const lines: string[] = [];
    if (status.phase !== this.phase) {
      this.phase = status.phase;
      lines.push(`  phase: ${status.phase}`);
    }
    for (const [name, stage] of Object.entries(status.stages)) {
      const key = `${stage.state}/${stage.attempts}`;
      if (this.seen.get(name) === key || stage.state === 'pending') continue;
      this.seen.set(name, key);
      lines.push(`  ${MARK[stage.state]} ${name.padEnd(24)} ${describe(stage)}`);
    }
    return lines;
  }
}

function describe(stage: StageStatus): string {
  const took =
    stage.startedAt && stage.endedAt
      ? ` in ${((Date.parse(stage.endedAt) - Date.parse(stage.startedAt)) / 1000).toFixed(1)}s`
      : '';
  const attempts = stage.attempts > 1 ? ` after ${stage.attempts} attempts` : '';
  const what = stage.state === 'running' ? 'running' : `${stage.state}${took}${attempts}`;
  return stage.summary && stage.state !== 'running' ? `${what} — ${firstLine(stage.summary)}` : what;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 140 ? `${line.slice(0, 137)}...` : line;
}
