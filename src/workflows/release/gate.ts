/**
 * The promotion gate before each environment, and rollback requests during its verification
 * window: promote or rollback from the link's approvers only, only while the run can take them,
 * signed where the worker says so. One object per run holds the message handlers (updates need
 * them before the first await); each link of the chain opens it in turn.
 */
import { ApplicationFailure, condition, log, setHandler, workflowInfo } from '@temporalio/workflow';
import { APPROVAL_REFUSED, signalRefusal, unsignedRefusal } from '../../approvals/protocol.js';
import { messageOf } from '../../failures.js';
import type {
  AuditEntry,
  DecisionArgs,
  DecisionResult,
  EnvironmentLink,
  ReleaseStatus,
} from '../../types.js';
import { promoteSignal, promoteUpdate, rollbackSignal, rollbackUpdate } from '../messages.js';
import { approvalActivities } from '../stages.js';

type Action = 'promote' | 'rollback';

/** What the gate decided. */
export interface Decision {
  action: Action;
  by: string;
  reason: string;
  kind: AuditEntry['action'];
}

/** `by <who>: <reason>`: who decided, for a failure's message. */
export function decidedBy(decision: Pick<Decision, 'by' | 'reason'>): string {
  return `by ${decision.by}${decision.reason ? `: ${decision.reason}` : ''}`;
}

/** What the gate needs from the run it belongs to. */
export interface GateHost {
  readonly status: ReleaseStatus;
  /** Adds an entry to the run's audit trail (the run fills in the workflow, app, release and commit). */
  audit(
    entry: Pick<AuditEntry, 'action' | 'by' | 'reason' | 'outcome' | 'reasonCode'> & { environment?: string },
  ): void;
  /** Refreshes the UI's view of the run. */
  show(): void;
}

/**
 * Signed approvals: the secret lives only on the worker, so the workflow asks it through local
 * activities. `decide()` asks once per run whether signatures are required, so the synchronous
 * parts can use the answer: an unsigned decision is refused at once, and a UI signal is refused.
 * The update handler has the worker check the signature and time, then applies the decision only
 * if the gate still takes it. Every refusal is audited.
 */
export class Gate {
  /** The link whose gate is open, or whose verification window runs. */
  private link?: EnvironmentLink;
  private decision?: Decision;
  private rollbackDuringVerification?: Decision;
  private signaturesRequired?: boolean;
  private requiredCheck?: Promise<boolean>;

  constructor(private readonly host: GateHost) {
    // Only a request without a name is turned away unheard (a validator's rejection leaves no trace in
    // history). Every other refusal happens in the handler, so it is on the run's audit trail with who,
    // what and why, and in the worker's log.
    const validator = (action: Action) => (args: DecisionArgs) => {
      if (typeof args !== 'object' || args === null || typeof args.by !== 'string') {
        throw new Error(`${action} needs an identity: pass --by <name>`);
      }
    };
    setHandler(promoteUpdate, (args) => this.checkAndApply('promote', args), {
      validator: validator('promote'),
    });
    setHandler(rollbackUpdate, (args) => this.checkAndApply('rollback', args), {
      validator: validator('rollback'),
    });
    // Signals cannot be refused to the sender, so a refused one is recorded and ignored.
    const signal =
      (action: Action) =>
      (args: DecisionArgs): void | Promise<void> => {
        const refusal = this.refusal(action, args);
        if (refusal) return this.record(action, args, 'refused', refusal);
        const required = this.required();
        return typeof required === 'boolean'
          ? this.signalled(action, args, required)
          : required.then((r) => this.signalled(action, args, r));
      };
    setHandler(promoteSignal, signal('promote'));
    setHandler(rollbackSignal, signal('rollback'));
  }

  /**
   * The gate before `link`: waits for promote, rollback, or the timeout (whose action the policy
   * names); a gate in auto mode promotes at once. The run sets the phase before calling this.
   */
  async decide(link: EnvironmentLink): Promise<Decision> {
    this.open(link);
    const policy = link.promotion;
    const environment = link.environment.name;
    const now = Date.now();
    const gate = {
      state: 'waiting' as const,
      since: new Date(now).toISOString(),
      timeoutAt: new Date(now + policy.timeoutMs).toISOString(),
    };
    (this.host.status.environments[environment] ??= {}).gate = gate;
    this.host.show();
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
      this.record(
        'promote',
        { by: 'tollgate', reason: 'promotion mode is auto' },
        'accepted',
        undefined,
        'auto-promote',
      );
    } else if (!(await condition(() => this.decision !== undefined, policy.timeoutMs))) {
      const reason = `no decision within ${Math.round(policy.timeoutMs / 1000)} s; the config says ${policy.onTimeout}`;
      const action = policy.onTimeout === 'promote' ? 'promote' : 'rollback';
      this.decision = { action, by: 'tollgate', reason, kind: 'gate-timeout' };
      this.record(action, { by: 'tollgate', reason }, 'accepted', undefined, 'gate-timeout');
    }
    const decision = this.decision!;
    Object.assign(gate, {
      state:
        decision.kind === 'gate-timeout'
          ? 'timed-out'
          : decision.action === 'promote'
            ? 'promoted'
            : 'rolled-back',
      decidedBy: decision.by,
      reason: decision.reason,
    });
    this.host.show();
    return decision;
  }

  /** The verification window of `link` runs: rollback requests now concern it. */
  watch(link: EnvironmentLink): void {
    this.open(link);
  }

  /** The window is over: no decision is taken until the next link opens the gate. */
  close(): void {
    this.link = undefined;
  }

  /** Resolves when someone asks for a rollback during the verification window (never otherwise). */
  async rollbackAsked(): Promise<Decision> {
    await condition(() => this.rollbackDuringVerification !== undefined);
    return this.rollbackDuringVerification!;
  }

  /** Resolves when someone asks for a rollback during the verification window, or after `ms`. */
  async rollbackRequested(ms: number): Promise<Decision | undefined> {
    await condition(() => this.rollbackDuringVerification !== undefined, ms);
    return this.rollbackDuringVerification;
  }

  private open(link: EnvironmentLink): void {
    this.link = link;
    this.decision = undefined;
    this.rollbackDuringVerification = undefined;
  }

  /** Whether approvals must be signed: the cached answer, or the pending question to the worker (asked once per run). */
  private required(): boolean | Promise<boolean> {
    if (this.signaturesRequired !== undefined) return this.signaturesRequired;
    this.requiredCheck ??= approvalActivities()
      .approvalsRequired()
      .then(({ required }) => (this.signaturesRequired ||= required))
      .catch((error: unknown) => {
        // Fail closed: a gate that cannot learn whether signatures are required takes only signed ones.
        log.warn('could not ask the worker whether approvals must be signed; requiring signatures', {
          error: messageOf(error),
        });
        return (this.signaturesRequired = true);
      });
    return this.requiredCheck;
  }

  /** The update handler: the worker checks the signature, then the gate applies the decision if it still can. */
  private async checkAndApply(action: Action, args: DecisionArgs): Promise<DecisionResult> {
    const by = args.by.trim();
    const { workflowId, runId } = workflowInfo();
    // Refusals that need no signature check are answered at once (and recorded).
    const early =
      this.refusal(action, args) ??
      (this.signaturesRequired && !args.signature ? unsignedRefusal(action) : null);
    if (early) return this.refuse(action, args, early);
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
        reason: `the worker could not check the ${action}'s signature (${messageOf(error)}): run tollgate ${action} again`,
      }));
    const wasRequired = this.signaturesRequired === true;
    if (verdict.ok) this.signaturesRequired ||= verdict.required;
    const refusal = !verdict.ok
      ? verdict.reason
      : wasRequired && !verdict.required
        ? `this run requires signed approvals, but the worker that checked this ${action} holds no approver keys: set TOLLGATE_APPROVER_KEYS on every worker of the task queue`
        : // Checked again after the wait: another decision (or the gate's timeout) may have come first.
          this.refusal(action, args);
    if (refusal) return this.refuse(action, args, refusal);
    this.apply(action, args);
    return { accepted: true, action, phase: this.host.status.phase };
  }

  /** Records a refused request on the audit trail and in the worker's log, and fails the update with why. */
  private refuse(action: Action, args: DecisionArgs, refusal: string): never {
    log.warn('refused a decision', { action, by: args.by, reason: refusal });
    this.record(action, args, 'refused', refusal);
    throw ApplicationFailure.create({ type: APPROVAL_REFUSED, message: refusal, nonRetryable: true });
  }

  /** A signal the synchronous checks let through: refused where signatures are required, else applied if the gate still takes it. */
  private signalled(action: Action, args: DecisionArgs, required: boolean): void {
    const refusal = required ? signalRefusal(action) : this.refusal(action, args);
    if (refusal) this.record(action, args, 'refused', refusal);
    else this.apply(action, args);
  }

  /** Why a request is refused, or null when it is allowed now. */
  private refusal(action: Action, args: DecisionArgs): string | null {
    const by = args?.by?.trim();
    if (!by) return `${action} needs an identity: pass --by <name>`;
    const phase = this.host.status.phase;
    const waiting = phase === 'awaiting-promotion' && !this.decision;
    if (!this.link || (!waiting && phase !== 'verifying')) {
      return action === 'promote'
        ? `the run is not waiting at a promotion gate (phase: ${phase})`
        : `rollback is possible at a promotion gate or during verification; the run is in phase ${phase}`;
    }
    const environment = this.link.environment.name;
    const approvers = this.link.promotion.approvers;
    if (approvers.length > 0 && !approvers.includes(by)) {
      return `${by} is not an approver of ${this.host.status.app} in ${environment} (approvers: ${approvers.join(', ')})`;
    }
    if (action === 'promote' && !waiting)
      return `the run is not waiting at a promotion gate (phase: ${phase})`;
    return null;
  }

  private apply(action: Action, args: DecisionArgs): void {
    const decision: Decision = { action, by: args.by.trim(), reason: args.reason ?? '', kind: action };
    if (this.host.status.phase === 'verifying') this.rollbackDuringVerification = decision;
    else this.decision = decision;
    this.record(action, args, 'accepted');
  }

  private record(
    action: Action,
    args: DecisionArgs,
    outcome: 'accepted' | 'refused',
    refusal?: string,
    kind?: AuditEntry['action'],
  ): void {
    this.host.audit({
      action: kind ?? action,
      by: args?.by ?? '',
      reason: refusal ? `refused: ${refusal}` : (args?.reason ?? ''),
      outcome,
      ...(this.link ? { environment: this.link.environment.name } : {}),
    });
    this.host.show();
  }
}
