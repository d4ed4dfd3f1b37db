import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RevenueLedger } from './revenue/ledger.js';

/** The service's Prometheus metrics, on a registry of its own (no global state). */
export class AppMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly revenueEvents: Counter<'type'>;
  private readonly revenueCents: Counter<'direction'>;

  constructor(ledger: RevenueLedger, options: { defaultMetrics?: boolean } = {}) {
    this.requests = new Counter({
      name: 'saas_http_requests_total',
      help: 'HTTP requests by method, route and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.revenueEvents = new Counter({
      name: 'saas_revenue_events_total',
      help: 'Stripe events counted into the revenue ledger, by event type',
      labelNames: ['type'],
      registers: [this.registry],
    });
    this.revenueCents = new Counter({
      name: 'saas_revenue_cents_total',
      help: 'Revenue booked since the process started, in cents: direction=credit for payments, refund for refunds',
      labelNames: ['direction'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'saas_revenue_today_cents',
      help: 'Net revenue booked today (UTC) in the reporting currency, in cents',
      registers: [this.registry],
      collect() {
        this.set(ledger.summary().revenueCents);
      },
    });
    if (options.defaultMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one answered request. */
  observeRequest(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, status: String(status) });
  }

  /** Counts one booked revenue event and its amount. */
  observeRevenue(type: string, deltaCents: number): void {
    this.revenueEvents.inc({ type });
    if (deltaCents >= 0) this.revenueCents.inc({ direction: 'credit' }, deltaCents);
    else this.revenueCents.inc({ direction: 'refund' }, -deltaCents);
  }

  /** The metrics in Prometheus text exposition format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
