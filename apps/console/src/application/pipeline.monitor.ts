import { CONSOLE_SERVICES, ConsoleService } from '../config/console.config';
import { Caller, ServiceClient } from '../adapters/services/service-client';
import { problemText } from './lineage.composer';
import { PipelineSample, RingBuffer, histogramQuantile, parsePrometheus, sumWhere } from '../domain/metrics';

const TIERS = ['stat', 'urgent', 'routine', 'bulk'];

/**
 * Live stages × tiers from each service's /metrics and GET /v1/admin/consumers
 * (with the user's token), and the last hour of stat p99 and lag kept in a
 * ring buffer by a sampler that runs with a token the console was given
 * (CONSOLE_SAMPLER_TOKEN, metrics:read) or the last signed-in admin's.
 */
export class PipelineMonitor {
  readonly history: RingBuffer<PipelineSample>;

  constructor(private readonly client: ServiceClient, capacity: number) {
    this.history = new RingBuffer(capacity);
  }

  async snapshot(caller: Caller) {
    const services = await Promise.all(CONSOLE_SERVICES.map(async (service) => {
      const [metrics, consumers] = await Promise.all([
        this.client.call(service, 'GET', '/metrics', caller),
        this.client.call(service, 'GET', '/v1/admin/consumers', caller),
      ]);
      return { service, metrics, consumers };
    }));
    const rows = services.map(({ service, metrics, consumers }) => {
      const samples = metrics.ok ? parsePrometheus(metrics.text) : [];
      const tiers = Object.fromEntries(TIERS.map((tier) => {
        const latency = samples.filter((s) => s.name === 'clinmesh_end_to_end_latency_seconds_bucket' && s.labels.tier === tier);
        return [tier, {
          processed: sumWhere(samples, 'clinmesh_events_consumed_total', { tier, outcome: 'processed' }),
          p50: histogramQuantile(0.5, latency),
          p99: histogramQuantile(0.99, latency),
          lag: sumWhere(samples, 'clinmesh_consumer_lag', { tier }),
          deadLetters: sumWhere(samples, 'clinmesh_dead_letters_total', { tier }),
        }];
      }));
      return {
        service: service as ConsoleService,
        available: metrics.ok,
        problem: metrics.ok ? undefined : problemText(metrics),
        tiers,
        outboxBacklog: sumWhere(samples, 'clinmesh_outbox_backlog', {}),
        offsetLoss: sumWhere(samples, 'clinmesh_consumer_offset_lost', {}),
        consumers: consumers.ok ? consumers.body.consumers : null,
        consumersProblem: consumers.ok ? undefined : problemText(consumers),
      };
    });
    return { at: new Date().toISOString(), services: rows };
  }

  async sample(token: string): Promise<PipelineSample> {
    const snap = await this.snapshot({ token });
    const stat = snap.services.map((s) => s.tiers.stat);
    const p99s = stat.map((t) => t.p99).filter((v): v is number => v !== null);
    const sample: PipelineSample = {
      at: snap.at,
      statP99: p99s.length ? Math.max(...p99s) : null,
      statLag: stat.reduce((a, t) => a + (t.lag ?? 0), 0),
      totalLag: snap.services.reduce((a, s) => a + Object.values(s.tiers).reduce((b, t) => b + (t.lag ?? 0), 0), 0),
    };
    this.history.push(sample);
    return sample;
  }
}
