/** Stage output handling shared by both runners: redaction, the bounded tail, the log file. */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { LOG_TAIL_BYTES } from '../constants.js';
import type { ArtifactRef, CommandPlan, StageResult } from '../types.js';

const REDACTED = '[REDACTED]';

/**
 * Replaces every secret value in `text`; values shorter than 4 characters are too common to redact.
 * A multi-line secret (a PEM key) is also redacted line by line, since output arrives in chunks that
 * may split it at any newline.
 */
export function redact(text: string, secrets: Record<string, string>): string {
  const values = Object.values(secrets).flatMap((value) =>
    value.includes('\n')
      ? [value, ...value.split(/\r?\n/).filter((line) => line.trim().length >= 8)]
      : [value],
  );
  let out = text;
  // Longest first: a secret that contains a shorter one must not be left half-redacted.
  for (const value of values.sort((a, b) => b.length - a.length)) {
    if (value.length >= 4) out = out.split(value).join(REDACTED);
  }
  return out;
}

/** The last `maxBytes` bytes of `text`, cut at a line start where possible. */
export function tail(text: string, maxBytes = LOG_TAIL_BYTES): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return text;
  let cut = buf.subarray(buf.length - maxBytes).toString('utf8');
  // A multi-byte character split at the cut decodes to U+FFFD: drop it, and any partial first line.
  const newline = cut.indexOf('\n');
  if (newline >= 0 && newline < cut.length - 1) cut = cut.slice(newline + 1);
  return cut.replace(/^\uFFFD+/, '');
}

/**
 * Collects a stage's output: writes it (redacted) to the log file, keeps a bounded tail,
 * and reports each complete line. Output is redacted per chunk after joining with the
 * previous chunk's unfinished line, so a secret split across two chunks is still caught.
 */
export class StageOutput {
  private readonly file: WriteStream;
  private pending = '';
  private recent = '';
  private lastLine = '';

  constructor(
    readonly logPath: string,
    private readonly secrets: Record<string, string>,
    private readonly onLine?: (line: string) => void,
    private readonly onOutput?: (chunk: string) => void,
  ) {
    mkdirSync(dirname(logPath), { recursive: true });
    this.file = createWriteStream(logPath, { flags: 'a' });
  }

  /** Appends raw output from a step. */
  write(chunk: string): void {
    const text = this.pending + chunk;
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.pending = text;
      return;
    }
    this.pending = text.slice(lastNewline + 1);
    this.emit(text.slice(0, lastNewline + 1));
  }

  /** Writes a line of Tollgate's own (a step header, a summary). */
  note(line: string): void {
    this.flushPending();
    this.emit(`${line}\n`);
  }

  /** The redacted tail, at most LOG_TAIL_BYTES. */
  tail(): string {
    this.flushPending();
    return tail(this.recent);
  }

  /** The last complete line seen. */
  latestLine(): string {
    return this.lastLine;
  }

  /** Resolves once everything written so far is in the log file (the coverage gate reads it). */
  async flush(): Promise<void> {
    this.flushPending();
    await new Promise<void>((resolve, reject) =>
      this.file.write('', (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Flushes and closes the log file. */
  async close(): Promise<void> {
    this.flushPending();
    await new Promise<void>((resolve) => this.file.end(resolve));
  }

  private flushPending(): void {
    if (this.pending) {
      const rest = this.pending;
      this.pending = '';
      this.emit(`${rest}\n`);
    }
  }

  private emit(raw: string): void {
    const clean = redact(raw, this.secrets);
    this.file.write(clean);
    this.onOutput?.(clean);
    this.recent = tail(this.recent + clean, LOG_TAIL_BYTES * 2);
    for (const line of clean.split('\n')) {
      if (line.trim()) {
        this.lastLine = line;
        this.onLine?.(line);
      }
    }
  }
}

/** How a passing stage ended, for passedResult. */
export interface Passed {
  plan: CommandPlan;
  runner: StageResult['runner'];
  attempt: number;
  started: Date;
  /** The one-line summary, given the stage's duration. */
  summary: (durationMs: number) => string;
  artifact?: ArtifactRef;
}

/** Notes the summary, closes the log and builds the result: how both runners end a passing stage. */
export async function passedResult(output: StageOutput, passed: Passed): Promise<StageResult> {
  const ended = new Date();
  const durationMs = ended.getTime() - passed.started.getTime();
  const summary = passed.summary(durationMs);
  output.note(`[tollgate] ${summary}`);
  const logTail = output.tail();
  await output.close();
  return {
    name: passed.plan.name,
    runner: passed.runner,
    attempt: passed.attempt,
    startedAt: passed.started.toISOString(),
    endedAt: ended.toISOString(),
    durationMs,
    exitCode: 0,
    summary,
    logTail,
    logPath: output.logPath,
    ...(passed.artifact ? { artifact: passed.artifact } : {}),
  };
}
