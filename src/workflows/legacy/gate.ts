/**
 * The schema 1 promotion gate: promote or rollback from approvers only, only while the run can take
 * them, signed where the worker says so.
 *
 * FROZEN (schema 1): runs started by Tollgate 0.1 clients, and every history they recorded, replay
 * on this code, so its commands must never change; see ./README.md. New work goes to ../release/.
 */
import { ApplicationFailure, condition, log, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { APPROVAL_REFUSED, signalRefusal, unsignedRefusal } from '../../approvals/protocol.js';
import type { AuditEntry, DecisionArgs, DecisionResult, PromotionPlan, ReleaseStatus } from './types.js';
import { promoteSignal, promoteUpdate, rollbackSignal, rollbackUpdate } from './messages.js';
import { approvalActivities } from './stages.js';

type Action = 'promote' | 'rollback';

// Runs recorded before signed approvals replay without the approval local activities.
const SIGNED_APPROVALS_PATCH = 'signed-approvals';

/** What the gate decided. */
export interface Decision {
  action: Action;
  by: string;
  reason: string;
  kind: AuditEntry['action'];
}

/**
 * Registers the message handlers at once (updates need handlers before the first await) and decides the gate.
 *
 * Signed approvals: the secret lives only on the worker, so the workflow asks it through local
 * activities. `decide()` asks once whether signatures are required (the worker holds
 * TOLLGATE_APPROVAL_SECRET), so the synchronous parts can use the answer: the update validator
 * rejects an unsigned promote/rollback, and a UI signal is refused and audited. The update handler
 * has the worker check the MAC and time, then applies the decision only if the gate still takes it.
 */
export class PromotionGate {
  private decision?: Decision;
  private rollbackDuringVerification?: Decision;
  /** Whether approvals must be signed: unknown until the worker is asked; once true, it stays true for the run. */
  private signaturesRequired?: boolean;
  private requiredCheck?: Promise<boolean>;

  /** `onChange` runs whenever the gate's state or audit trail changes (the workflow refreshes the UI's details). */
  constructor(
    private readonly status: ReleaseStatus,
    private readonly policy: PromotionPlan | undefined,
    private readonly onChange: () => void = () => undefined,
  ) {
    const validator = (action: Action) => (args: DecisionArgs) => {
      const refusal = this.refusal(action, args);
      // A validator rejects by throwing; nothing changes and nothing enters history.
      if (refusal) throw new Error(refusal);
      if (this.signaturesRequired && !args.signature) {
        // Not in the audit trail (a validator cannot change state): the worker's log keeps the attempt.
        log.warn('refused an unsigned decision', { action, by: args.by });
        throw new Error(unsignedRefusal(action));
      }
    };
    const handler =
      (action: Action) =>
      (args: DecisionArgs): DecisionResult | Promise<DecisionResult> =>
        // Histories from before signed approvals replay as they ran: applied at once, nothing checked.
        patched(SIGNED_APPROVALS_PATCH) ? this.checkAndApply(action, args) : this.applied(action, args);
    setHandler(promoteUpdate, handler('promote'), { validator: validator('promote') });
    setHandler(rollbackUpdate, handler('rollback'), { validator: validator('rollback') });
    // Signals cannot be refused to the sender, so a refused one is recorded and ignored.
    const signal =
      (action: Action) =>
      (args: DecisionArgs): void | Promise<void> => {
        const refusal = this.refusal(action, args);
        if (refusal) return this.audit(action, args, 'refused', refusal);
        const required = this.required();
        return typeof required === 'boolean'
          ? this.signalled(action, args, required)
          : required.then((r) => this.signalled(action, args, r));
      };
    setHandler(promoteSignal, signal('promote'));
    setHandler(rollbackSignal, signal('rollback'));
  }

  /** Waits for promote, rollback, or the timeout (whose action the policy names). */
  async decide(): Promise<Decision> {
    const policy = this.policy!;
    const now = Date.now();
    this.status.gate = {
      state: 'waiting',
      since: new Date(now).toISOString(),
      timeoutAt: new Date(now + policy.timeoutMs).toISOString(),
    };
    this.onChange();
    // Ask the worker before waiting: the validator and signals need the answer synchronously.
    const required = this.required();
    if (typeof required !== 'boolean') await required;
    if (policy.mode === 'auto') {
      this.decision = {
        action: 'promote',
        by: 'tollgate',
        reason: 'promotion mode is auto',
        kind: 'auto-promote',
      };
      this.audit(
        'promote',
        { by: 'tollgate', reason: 'promotion mode is auto' },
        'accepted',
        undefined,
        'auto-promote',
      );
    } else if (!(await condition(() => this.decision !== undefined, policy.timeoutMs))) {
      const reason = `no decision within ${Math.round(policy.timeoutMs / 1000)} s; the config says ${policy.onTimeout}`;
      this.decision = {
        action: policy.onTimeout === 'promote' ? 'promote' : 'rollback',
        by: 'tollgate',
        reason,
        kind: 'gate-timeout',
      };
      this.audit(this.decision.action, { by: 'tollgate', reason }, 'accepted', undefined, 'gate-timeout');
    }
    const decision = this.decision!;
    Object.assign(this.status.gate, {
      state:
        decision.kind === 'gate-timeout'
          ? 'timed-out'
          : decision.action === 'promote'
            ? 'promoted'
            : 'rolled-back',
      decidedBy: decision.by,
      reason: decision.reason,
    });
    this.onChange();
    return decision;
  }

  /** Resolves when someone asks for a rollback during the verification window, or after `ms`. */
  async rollbackRequested(ms: number): Promise<Decision | undefined> {
    await condition(() => this.rollbackDuringVerification !== undefined, ms);
    return this.rollbackDuringVerification;
  }

  /**
   * Whether approvals must be signed: the cached answer, or the pending question to the worker.
   * Asked once per run (by `decide()`, or by the first message that needs it on a run that was
   * waiting before this code was deployed).
   */
  private required(): boolean | Promise<boolean> {
    if (this.signaturesRequired !== undefined) return this.signaturesRequired;
    if (!patched(SIGNED_APPROVALS_PATCH)) return false;
    this.requiredCheck ??= approvalActivities()
      .approvalsRequired()
      .then(({ required }) => (this.signaturesRequired ||= required))
      .catch((error: unknown) => {
        // Fail closed: a gate that cannot learn whether signatures are required takes only signed ones.
        log.warn('could not ask the worker whether approvals must be signed; requiring signatures', {
          error: error instanceof Error ? error.message : String(error),
        });
        return (this.signaturesRequired = true);
      });
    return this.requiredCheck;
  }

  /** The update handler: the worker checks the signature, then the gate applies the decision if it still can. */
  private async checkAndApply(action: Action, args: DecisionArgs): Promise<DecisionResult> {
    const by = args.by.trim();
    const { workflowId, runId } = workflowInfo();
    const verdict = await approvalActivities()
      .verifyApproval({
        workflowId,
        runId,
        action,
        by,
        ...(args.reason ? { reason: args.reason } : {}),
        ...(args.signature !== undefined ? { signature: args.signature } : {}),
      })
      .catch((error: unknown) => ({
        ok: false as const,
        required: true as const,
        reason: `the worker could not check the ${action}'s signature (${error instanceof Error ? error.message : String(error)}): run tollgate ${action} again`,
      }));
    const wasRequired = this.signaturesRequired === true;
    if (verdict.ok) this.signaturesRequired ||= verdict.required;
    const refusal = !verdict.ok
      ? verdict.reason
      : wasRequired && !verdict.required
        ? `this run requires signed approvals, but the worker that checked this ${action} holds no approver keys: set TOLLGATE_APPROVER_KEYS on every worker of the task queue`
        : // Checked again after the wait: another decision (or the gate's timeout) may have come first.
          this.refusal(action, args);
    if (refusal) {
      this.audit(action, args, 'refused', refusal);
      throw ApplicationFailure.create({ type: APPROVAL_REFUSED, message: refusal, nonRetryable: true });
    }
    return this.applied(action, args);
  }

  /** A signal the synchronous checks let through: refused where signatures are required, else applied if the gate still takes it. */
  private signalled(action: Action, args: DecisionArgs, required: boolean): void {
    const refusal = required ? signalRefusal(action) : this.refusal(action, args);
    if (refusal) this.audit(action, args, 'refused', refusal);
    else this.apply(action, args);
  }

  /** Why a request is refused, or null when it is allowed now. */
  private refusal(action: Action, args: DecisionArgs): string | null {
    const by = args?.by?.trim();
    if (!by) return `${action} needs an identity: pass --by <name>`;
    const approvers = this.policy?.approvers ?? [];
    if (approvers.length > 0 && !approvers.includes(by)) {
      return `${by} is not an approver of ${this.status.app} (approvers: ${approvers.join(', ')})`;
    }
    const phase = this.status.phase;
    if (action === 'promote' && (phase !== 'awaiting-promotion' || this.decision)) {
      return `the run is not waiting at the promotion gate (phase: ${phase})`;
    }
    if (
      action === 'rollback' &&
      !(phase === 'awaiting-promotion' && !this.decision) &&
      phase !== 'verifying'
    ) {
      return `rollback is possible at the gate or during verification; the run is in phase ${phase}`;
    }
    return null;
  }

  private applied(action: Action, args: DecisionArgs): DecisionResult {
    this.apply(action, args);
    return { accepted: true, action, phase: this.status.phase };
  }

  private apply(action: Action, args: DecisionArgs): void {
    const decision: Decision = { action, by: args.by.trim(), reason: args.reason ?? '', kind: action };
    if (this.status.phase === 'verifying') this.rollbackDuringVerification = decision;
    else this.decision = decision;
    this.audit(action, args, 'accepted');
  }

  private audit(
    action: Action,
    args: DecisionArgs,
    outcome: 'accepted' | 'refused',
    refusal?: string,
    kind?: AuditEntry['action'],
  ): void {
    this.status.audit.push({
      at: new Date().toISOString(),
      workflowId: workflowInfo().workflowId,
      app: this.status.app,
      action: kind ?? action,
      by: args?.by ?? '',
      reason: refusal ? `refused: ${refusal}` : (args?.reason ?? ''),
      ...(this.status.releaseId ? { releaseId: this.status.releaseId } : {}),
      ...(this.status.artifact ? { digest: this.status.artifact.digest } : {}),
      outcome,
    });
    this.onChange();
  }
}
