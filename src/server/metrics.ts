import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics. Labels carry codes and stage names only, never request data. */
export class GateMetrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({
    name: 'syncgate_decisions_total',
    help: 'Gate decisions by outcome and reason code (the first reason; "none" when allowed).',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });
  readonly stageSeconds = new Histogram({
    name: 'syncgate_stage_duration_seconds',
    help: 'Time spent in each gate pipeline stage.',
    labelNames: ['stage'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'syncgate_http_requests_total',
    help: 'HTTP requests by route and status code.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'syncgate_' });
  }
}
