/** The compensation stack: undo what succeeded, newest first, whatever happened to the run. */
import { CancellationScope, log } from '@temporalio/workflow';
import type { CompensationReport } from '../types.js';

type Undo = () => Promise<unknown>;

/** Collects undos as steps succeed and runs them in reverse when the run fails. */
export class Saga {
  private readonly undos: { name: string; undo: Undo }[] = [];

  /** Registers the undo of a step that just succeeded. */
  push(name: string, undo: Undo): void {
    this.undos.push({ name, undo });
  }

  /** How many undos are waiting. */
  get size(): number {
    return this.undos.length;
  }

  /**
   * Runs every undo in reverse order inside a non-cancellable scope (a cancelled run must still
   * clean up), continuing past failures. Each undo's failure is reported, not swallowed.
   */
  async compensate(): Promise<CompensationReport[]> {
    const reports: CompensationReport[] = [];
    await CancellationScope.nonCancellable(async () => {
      while (this.undos.length > 0) {
        const { name, undo } = this.undos.pop()!;
        try {
          await undo();
          reports.push({ name, ok: true });
        } catch (error) {
          const message =
            error instanceof Error
              ? error.cause instanceof Error
                ? error.cause.message
                : error.message
              : String(error);
          log.error('compensation failed', { name, error: message });
          reports.push({ name, ok: false, error: message });
        }
      }
    });
    return reports;
  }
}
