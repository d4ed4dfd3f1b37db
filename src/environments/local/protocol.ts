/** The control API between a driver and its environment's supervisor: one POST per operation, JSON in and out. */
import type {
  DeployedRelease,
  ReleaseSpec,
  ReleaseTraffic,
  RollbackResult,
  TrafficStats,
} from '../environment.js';
import type { EnvironmentErrorType } from './errors.js';
import type { RuntimeOptions } from './runtime.js';
import type { EnvState } from './state.js';

/** What `status` answers: the durable state plus which release processes are alive now. */
export interface SupervisorStatus {
  pid: number;
  state: EnvState;
  alive: Record<string, boolean>;
}

/** Each operation's request and response. */
export interface ControlOps {
  ping: {
    req: Record<string, never>;
    res: { pid: number; name: string; port: number; runtime?: RuntimeOptions['kind'] };
  };
  logs: { req: { releaseId?: string; bytes?: number }; res: { releaseId: string | null; tail: string } };
  deploy: { req: { spec: ReleaseSpec; readyTimeoutMs: number }; res: DeployedRelease };
  activate: { req: { releaseId: string; readyTimeoutMs: number }; res: { previous: string | null } };
  rollback: { req: { readyTimeoutMs: number; requestId?: string }; res: RollbackResult };
  deactivate: { req: Record<string, never>; res: { previous: string | null } };
  settle: { req: Record<string, never>; res: { parked: string | null; retired: string[] } };
  status: { req: Record<string, never>; res: SupervisorStatus };
  traffic: { req: { since?: string }; res: TrafficStats };
  counters: { req: Record<string, never>; res: Record<string, ReleaseTraffic> };
  canary: {
    req: {
      releaseId: string;
      weight: number;
      readyTimeoutMs: number;
      sticky?: { header?: string; cookie?: string };
      checkoutPath?: string;
    };
    res: { previousWeight: number | null };
  };
  clearCanary: { req: Record<string, never>; res: { cleared: string | null } };
  retire: { req: { releaseId: string }; res: { retired: boolean } };
  stop: { req: Record<string, never>; res: { stopped: string[] } };
}

/** One control operation's name. */
export type ControlOp = keyof ControlOps;

/** The body of a failed operation. */
export interface ControlError {
  error: { message: string; releaseId?: string; logTail?: string; type?: EnvironmentErrorType };
}
