/**
 * `--verbose`: each step's output while it runs. When the worker shares this machine's
 * TOLLGATE_HOME, the stage logs under runs/<workflowId>/ are tailed as they grow (every line);
 * otherwise the running activities' heartbeats give each stage's latest line (sampled).
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { LoadedDataConverter, Payload } from '@temporalio/common';

/** One line of a stage's output. */
export interface StepLine {
  stage: string;
  line: string;
}

/** Where the lines come from. */
export type StepSource = 'log files' | 'heartbeats';

/** Polled by the follow loop; returns the lines that appeared since the last poll. */
export class StepOutput {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();
  private readonly latest = new Map<string, string>();
  private mode: StepSource = 'heartbeats';
  private started = false;

  constructor(
    private readonly client: Client,
    private readonly handle: WorkflowHandle,
    /** `<TOLLGATE_HOME>/runs/<workflowId>` as seen from this machine. */
    private readonly runDir: string,
    /** When the run started: log files older than this belong to an earlier run of the same id. */
    private readonly runStartMs: number,
  ) {}

  /** Which source the lines come from now. */
  get source(): StepSource {
    return this.mode;
  }

  /** New lines since the last call. */
  async poll(): Promise<StepLine[]> {
    if (!this.started) {
      this.started = true;
      // A log created before this run holds earlier runs of the same id (the lane id is reused):
      // only what is appended from now on is this run's. Logs created since are read from the start.
      for (const file of await this.logFiles()) {
        if (file.bornMs < this.runStartMs) this.offsets.set(file.name, file.size);
      }
    }
    if (this.mode === 'heartbeats' && (await this.logFiles()).some((f) => f.mtimeMs >= this.runStartMs)) {
      this.mode = 'log files';
    }
    return this.mode === 'log files' ? this.tailFiles() : this.heartbeats();
  }

  private async logFiles(): Promise<{ name: string; size: number; mtimeMs: number; bornMs: number }[]> {
    const names = await readdir(this.runDir).catch(() => [] as string[]);
    const files = await Promise.all(
      names
        .filter((n) => n.endsWith('.log'))
        .map(async (name) => {
          const s = await stat(join(this.runDir, name)).catch(() => undefined);
          // birthtime is 0 where the file system does not record it: then ctime, the next best.
          return s?.isFile()
            ? { name, size: s.size, mtimeMs: s.mtimeMs, bornMs: s.birthtimeMs || s.ctimeMs }
            : undefined;
        }),
    );
    return files.filter((f) => f !== undefined);
  }

  private async tailFiles(): Promise<StepLine[]> {
    const lines: StepLine[] = [];
    for (const file of (await this.logFiles()).sort((a, b) => a.name.localeCompare(b.name))) {
      const from = this.offsets.get(file.name) ?? 0;
      if (file.size <= from) continue;
      const handle = await open(join(this.runDir, file.name), 'r');
      try {
        const buffer = Buffer.alloc(file.size - from);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
        this.offsets.set(file.name, from + bytesRead);
        const text = (this.partial.get(file.name) ?? '') + buffer.subarray(0, bytesRead).toString('utf8');
        const parts = text.split('\n');
        this.partial.set(file.name, parts.pop() ?? '');
        const stage = file.name.slice(0, -'.log'.length);
        for (const line of parts) lines.push({ stage, line });
      } finally {
        await handle.close();
      }
    }
    return lines;
  }

  private async heartbeats(): Promise<StepLine[]> {
    const description = await this.handle.describe().catch(() => undefined);
    const lines: StepLine[] = [];
    for (const activity of description?.raw.pendingActivities ?? []) {
      const details = await decode(
        this.client.options.loadedDataConverter,
        activity.heartbeatDetails?.payloads,
      );
      if (!isStageBeat(details) || typeof details.latest !== 'string' || !details.latest) continue;
      const key = `${details.stage}/${details.attempt}`;
      if (this.latest.get(key) === details.latest) continue;
      this.latest.set(key, details.latest);
      lines.push({ stage: details.stage, line: details.latest });
    }
    return lines;
  }
}

/**
 * The last `maxLines` lines of a stage log on this machine, or undefined when there is none: for a
 * failed stage whose status carries no tail (a worker older than this CLI) but whose log is here.
 */
export async function localLogTail(path: string, maxLines: number): Promise<string | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    // Enough bytes for the lines asked for; a longer line is cut at its start.
    const length = Math.min(size, 256 * maxLines);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    const lines = buffer.subarray(0, bytesRead).toString('utf8').split('\n');
    if (length < size) lines.shift(); // the first is likely a part of a line
    const kept = lines.filter((line) => line.trim()).slice(-maxLines);
    return kept.length > 0 ? kept.join('\n') : undefined;
  } finally {
    await handle.close();
  }
}

/** The attempt each running stage is on, from the pending activities' heartbeats (the status query learns it only at the end). */
export async function liveAttempts(client: Client, handle: WorkflowHandle): Promise<Map<string, number>> {
  const attempts = new Map<string, number>();
  const description = await handle.describe().catch(() => undefined);
  for (const activity of description?.raw.pendingActivities ?? []) {
    const details = await decode(client.options.loadedDataConverter, activity.heartbeatDetails?.payloads);
    if (isStageBeat(details)) attempts.set(details.stage, activity.attempt || details.attempt);
  }
  return attempts;
}

/** What runStage heartbeats. */
function isStageBeat(value: unknown): value is { stage: string; attempt: number; latest: string } {
  return typeof value === 'object' && value !== null && 'stage' in value && 'attempt' in value;
}

/** The first heartbeat detail, through the client's codecs and payload converter. */
async function decode(
  converter: LoadedDataConverter,
  payloads: Payload[] | null | undefined,
): Promise<unknown> {
  if (!payloads?.length) return undefined;
  try {
    let decoded = payloads;
    for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    return converter.payloadConverter.fromPayload(decoded[0]!);
  } catch {
    return undefined;
  }
}
