/**
 * The Temporal Runtime: one per process, installed before any connection. It carries the logger
 * (SDK, Core, workflow and activity lines) and the Prometheus exporter for the SDK's metrics and
 * Tollgate's own (src/observability/metrics.ts).
 */
import { IllegalStateError } from '@temporalio/common';
import { Runtime, type TelemetryOptions } from '@temporalio/worker';
import type { Level, TollgateLogger } from './logging.js';
import { METRIC_BUCKETS } from './metrics.js';

/** Where /metrics is served unless TOLLGATE_METRICS_ADDRESS says otherwise. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

/** Options of installRuntime. */
export interface RuntimeSetup {
  /** Receives every SDK, Core, workflow and activity log line. */
  logger: TollgateLogger;
  /** `host:port` for /metrics, or `off`; by default TOLLGATE_METRICS_ADDRESS, else 127.0.0.1:9464. */
  metricsAddress?: string;
  /** Core's own lines at this level and above are forwarded to the logger. Default `info`. */
  coreLevel?: Level;
  env?: NodeJS.ProcessEnv;
}

/** What installRuntime did. */
export interface InstalledRuntime {
  runtime: Runtime;
  /** The address /metrics is served on; undefined when metrics are off or the address was taken. */
  metricsAddress: string | undefined;
  /** False when a Runtime already existed (a test's): it was left as it was. */
  installed: boolean;
}

/**
 * Installs the process's Runtime. A taken metrics address is logged and the worker runs without
 * /metrics (a second worker on the same machine still works); an invalid one throws.
 */
export function installRuntime(setup: RuntimeSetup): InstalledRuntime {
  const env = setup.env ?? process.env;
  const address = metricsAddressOf(setup.metricsAddress ?? env.TOLLGATE_METRICS_ADDRESS);
  const logging: TelemetryOptions['logging'] = {
    filter: { core: (setup.coreLevel ?? 'info').toUpperCase() as 'INFO', other: 'ERROR' },
    forward: {},
  };
  const install = (metricsAddress: string | undefined): InstalledRuntime => ({
    runtime: Runtime.install({
      logger: setup.logger,
      telemetryOptions: {
        logging,
        ...(metricsAddress ? { metrics: prometheusMetrics(metricsAddress) } : {}),
      },
    }),
    metricsAddress,
    installed: true,
  });
  try {
    return install(address);
  } catch (error) {
    if (error instanceof IllegalStateError) {
      return { runtime: Runtime.instance(), metricsAddress: undefined, installed: false };
    }
    if (!address || !/prometheus/i.test(String(error))) throw error;
    setup.logger.warn(
      `metrics off: cannot serve /metrics on ${address} (${error instanceof Error ? error.message : String(error)}); set TOLLGATE_METRICS_ADDRESS to a free host:port, or off`,
      { metricsAddress: address },
    );
    return install(undefined);
  }
}

/** The metrics part of the telemetry options, for installRuntime and for tests that install their own Runtime. */
export function prometheusMetrics(bindAddress: string): NonNullable<TelemetryOptions['metrics']> {
  return { prometheus: { bindAddress, histogramBucketOverrides: METRIC_BUCKETS } };
}

/**
 * `ip:port` from TOLLGATE_METRICS_ADDRESS: a bare port or `localhost:port` means loopback, `off`
 * (or empty) means none. Core binds IP literals only, so other host names are refused here.
 */
export function metricsAddressOf(value: string | undefined): string | undefined {
  const text = (value ?? DEFAULT_METRICS_ADDRESS).trim();
  if (text === '' || text.toLowerCase() === 'off') return undefined;
  const address = /^\d+$/.test(text) ? `127.0.0.1:${text}` : text.replace(/^localhost:/i, '127.0.0.1:');
  const match = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):(\d+)$/.exec(address);
  const port = Number(match?.[1]);
  if (!match || port < 1 || port > 65535) {
    throw new Error(
      `TOLLGATE_METRICS_ADDRESS=${value} is not ip:port: use e.g. ${DEFAULT_METRICS_ADDRESS}, 0.0.0.0:9464, [::1]:9464 or off`,
    );
  }
  return address;
}
