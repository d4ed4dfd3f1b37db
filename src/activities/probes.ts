/**
 * Tops a canary's thin traffic up (issue 18): while a step runs, probes go through the
 * environment's proxy (so they split by weight as customers do, and are counted per release,
 * apart, as synthetic) on the config's smoke routes, only as many as the real traffic lacks for
 * the target rate. Bounded: at most `ratePerSecond` in total, at most MAX_IN_FLIGHT at once, for
 * at most `durationMs`, and it stops when the workflow cancels it.
 */
import type { ReleaseTraffic } from '../environments/environment.js';
import { PROBE_HEADER } from '../environments/local/routing.js';

/** Probes in flight at once: a slow release must not make the probe generator a flood. */
const MAX_IN_FLIGHT = 32;
/** How often the generator looks at the real traffic and tops it up. */
const TICK_MS = 250;

/** What a probe run did. */
export interface ProbeReport {
  sent: number;
  failed: number;
}

/** Sends probes until `durationMs` passed or `signal` aborts; `beat` is called every tick. */
export async function topUpTraffic(args: {
  url: string;
  routes: readonly string[];
  ratePerSecond: number;
  durationMs: number;
  counters: () => Promise<Record<string, ReleaseTraffic>>;
  signal: AbortSignal;
  beat: (report: ProbeReport) => void;
}): Promise<ProbeReport> {
  const report: ProbeReport = { sent: 0, failed: 0 };
  const realRequests = async (): Promise<number> =>
    Object.values(await args.counters().catch(() => ({}))).reduce(
      (sum, c) => sum + c.requests - (c.synthetic ?? 0),
      0,
    );
  const ends = Date.now() + args.durationMs;
  const inFlight = new Set<Promise<void>>();
  let real = await realRequests();
  let owed = 0;
  while (Date.now() < ends && !args.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    const now = await realRequests();
    // What the target rate asks of this tick, less what customers sent in it.
    owed = Math.max(0, owed + (args.ratePerSecond * TICK_MS) / 1000 - Math.max(0, now - real));
    real = now;
    while (owed >= 1 && inFlight.size < MAX_IN_FLIGHT && !args.signal.aborted) {
      owed -= 1;
      const n = report.sent++;
      const route = args.routes[n % args.routes.length] ?? '/';
      const probe = fetch(`${args.url}${route}`, {
        headers: { [PROBE_HEADER]: `probe-${n % 1000}` },
        signal: AbortSignal.timeout(10_000),
      })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status >= 500) report.failed++;
        })
        .catch(() => {
          report.failed++;
        })
        .finally(() => inFlight.delete(probe));
      inFlight.add(probe);
    }
    // Probes the cap held back are not owed later: a burst would distort the step's traffic.
    owed = Math.min(owed, args.ratePerSecond);
    args.beat(report);
  }
  await Promise.all(inFlight);
  return report;
}
