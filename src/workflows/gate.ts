/** The promotion gate: promote or rollback from approvers only, only while the run can take them. */
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AuditEntry, DecisionArgs, DecisionResult, PromotionPlan, ReleaseStatus } from '../types.js';
import { promoteSignal, promoteUpdate, rollbackSignal, rollbackUpdate } from './messages.js';

type Action = 'promote' | 'rollback';

/** What the gate decided. */
export interface Decision {
  action: Action;
  by: string;
  reason: string;
  kind: AuditEntry['action'];
}

/** Registers the message handlers at once (updates need handlers before the first await) and decides the gate. */
export class PromotionGate {
  private decision?: Decision;
  private rollbackDuringVerification?: Decision;

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
    };
    const handler =
      (action: Action) =>
      (args: DecisionArgs): DecisionResult => {
        this.apply(action, args);
        return { accepted: true, action, phase: this.status.phase };
      };
    setHandler(promoteUpdate, handler('promote'), { validator: validator('promote') });
    setHandler(rollbackUpdate, handler('rollback'), { validator: validator('rollback') });
    // Signals cannot be refused to the sender, so a refused one is recorded and ignored.
    const signal = (action: Action) => (args: DecisionArgs) => {
      const refusal = this.refusal(action, args);
      if (refusal) this.audit(action, args, 'refused', refusal);
      else this.apply(action, args);
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
