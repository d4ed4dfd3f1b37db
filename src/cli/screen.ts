/**
 * The TTY view of `watch`: a compact screen redrawn in place with two ANSI sequences (cursor up,
 * erase down); no TUI library, since a table of a dozen lines needs nothing more.
 */
import type { ReleaseStatus } from '../types.js';
import { canaryLines, describeSource } from '../workflows/ui.js';
import { MARK, describeGate, describeSample, firstLine, took } from './progress.js';

/** What the screen shows besides the status query. */
export interface ScreenInfo {
  workflowId: string;
  /** Milliseconds since the epoch, for the running stages' durations. */
  now: number;
}

/** The stage table, gate and latest verification sample as lines. */
export function renderScreen(status: ReleaseStatus | undefined, info: ScreenInfo): string[] {
  if (!status) return [`${info.workflowId} — waiting for the first status…`];
  const stages = Object.entries(status.stages);
  const width = Math.max(22, ...stages.map(([name]) => name.length));
  const row = (mark: string, name: string, state: string, attempt: string, duration: string): string =>
    `  ${mark} ${name.padEnd(width)}  ${state.padEnd(11)}  ${attempt.padStart(7)}  ${duration.padStart(8)}`;
  const lines = [
    `${info.workflowId} — ${status.app} @ ${describeSource(status.source)} — ${status.phase}${status.environment ? ` (${status.environment})` : ''}`,
    row(' ', 'stage', 'state', 'attempt', 'duration'),
    ...stages.map(([name, s]) =>
      row(MARK[s.state], name, s.state, s.attempts ? String(s.attempts) : '-', took(s, info.now) || '-'),
    ),
  ];
  for (const [environment, progress] of Object.entries(status.environments)) {
    if (progress.gate) lines.push(`  gate before ${environment}: ${describeGate(progress.gate)}`);
    if (progress.canary) lines.push(...canaryLines(environment, progress.canary).map((line) => `  ${line}`));
    const window = progress.verification;
    const sample = window?.samples.at(-1) ?? window?.baseline;
    if (window && sample) {
      const which = window.samples.length
        ? `sample ${window.samples.length}${window.endsAt ? `, window ends ${window.endsAt}` : ''}`
        : 'baseline';
      lines.push(`  verification of ${environment} (${which}): ${describeSample(sample)}`);
    }
  }
  if (status.failure) lines.push(`  failure: ${firstLine(status.failure)}`);
  return lines;
}

/** Redraws a block of lines in place; lines printed with `print` scroll above it. */
export class LiveScreen {
  private frame: string[] = [];
  private drawn = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  /** Replaces the block with `lines`. */
  draw(lines: string[]): void {
    this.frame = lines;
    this.out.write(this.erase() + this.fit(lines));
    this.drawn = lines.length;
  }

  /** Prints `lines` above the block (step output), then redraws it. */
  print(lines: string[]): void {
    if (lines.length === 0) return;
    this.out.write(this.erase() + lines.map((l) => `${l}\n`).join(''));
    this.drawn = 0;
    this.draw(this.frame);
  }

  private erase(): string {
    return this.drawn > 0 ? `\r\x1b[${this.drawn}A\x1b[0J` : '';
  }

  /** Lines cut to the terminal's width, so none wraps and the cursor-up count stays right. */
  private fit(lines: string[]): string {
    const columns = Math.max(20, (this.out.columns || 100) - 1);
    return lines.map((l) => `${[...l].slice(0, columns).join('')}\n`).join('');
  }
}
