/**
 * CPU slots for heavy stages on one worker. Stages that can run together (the revenue checks) gain
 * nothing on two cores when each wants the CPU: they only compete, and the group is slower than the
 * same stages in a row. A heavy stage therefore takes one of a fixed number of slots (default: one
 * per core); a stage the config marks `load: 'light'` takes none and starts at once.
 * First come, first served; a waiting stage that is cancelled leaves the queue.
 */
import { availableParallelism } from 'node:os';

/** Heavy stages one worker runs at a time unless TOLLGATE_STAGE_SLOTS says otherwise: one per core. */
export function defaultStageSlots(cores: number = availableParallelism()): number {
  return Math.max(1, cores);
}

/** A counting semaphore with a FIFO queue. */
export class StageSlots {
  private busy = 0;
  private readonly waiting: { grant: () => void }[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`stage slots must be a whole number ≥ 1, not ${size}`);
  }

  /** Stages holding a slot now. */
  get inUse(): number {
    return this.busy;
  }

  /** Stages waiting for one. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with a release function once a slot is free; rejects with the signal's reason when it
   * is aborted first. Call the release exactly once (it ignores later calls).
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.busy < this.size) {
      this.busy += 1;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(
          signal?.reason instanceof Error
            ? signal.reason
            : new Error('cancelled while waiting for a stage slot'),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
    return this.releaser(); // the slot was handed over by the releaser: busy already counts it
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.busy -= 1;
    };
  }
}
