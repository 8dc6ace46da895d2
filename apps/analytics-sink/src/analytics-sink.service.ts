import { Module } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MockControlTopicProvisioner } from '@clinmesh/event-runtime';
import { RuntimeMetrics } from '@clinmesh/observability';
import { RUNTIME_METRICS, SERVICE_CONFIG, ServiceConfig, ServiceContext, ServiceSpec } from '@clinmesh/service-kit';
import { deadLetterTopic } from '@clinmesh/topology';
import { AnalyticsSinkConfig, loadAnalyticsSinkConfig } from './config/analytics-sink.config';
import { RecordCanonicalEventHandler } from './application/record-canonical-event.handler';
import { ApplyIdentityChangeHandler } from './application/apply-identity-change.handler';
import { AnalyticsRepository } from './adapters/persistence/analytics.repository';
import { AnalyticsSinkTables1795909521857 } from './adapters/persistence/analytics.migrations';
import { analyticsSinkConsumers } from './analytics-sink.consumers';
import { ANALYTICS_SINK_CONFIG, APPLY_IDENTITY_CHANGE_HANDLER, RECORD_CANONICAL_EVENT_HANDLER } from './analytics-sink.tokens';

export const ANALYTICS_SINK_SERVICE = 'analytics-sink';

@Module({
  providers: [
    // Validated when the container is built, before the service listens or consumes.
    { provide: ANALYTICS_SINK_CONFIG, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig) => loadAnalyticsSinkConfig((n) => config.env(n)) },
    {
      provide: RECORD_CANONICAL_EVENT_HANDLER,
      inject: [RUNTIME_METRICS],
      useFactory: (metrics: RuntimeMetrics) => {
        const stored = new Counter({
          name: 'clinmesh_analytics_rows_total', help: 'Canonical records seen by the analytics sink, by table and outcome (stored: inserted or replaced; unchanged: same event or older version)',
          labelNames: ['table', 'outcome'], registers: [metrics.registry],
        });
        return new RecordCanonicalEventHandler((ctx) => new AnalyticsRepository(ctx.uow), (table, changed) => stored.inc({ table, outcome: changed ? 'stored' : 'unchanged' }));
      },
    },
    { provide: APPLY_IDENTITY_CHANGE_HANDLER, useFactory: () => new ApplyIdentityChangeHandler((ctx) => new AnalyticsRepository(ctx.uow)) },
  ],
})
class AnalyticsSinkModule {}

/**
 * The service's own dead-letter topic and its `-value` subject: the shared topology lists the
 * pipeline's six services only. Until this has run, a dead letter is retried, not lost.
 */
async function ensureOwnTopics(ctx: ServiceContext): Promise<void> {
  const topics = [{ name: deadLetterTopic(ANALYTICS_SINK_SERVICE), partitions: 3, schema: 'DeadLetter' }];
  if (ctx.config.topicProvisioning.mode === 'mock') await new MockControlTopicProvisioner(ctx.config.topicProvisioning.controlUrl).ensureTopics(topics);
  await ctx.runtime.serde.registerTopics(topics);
}

/** Composition root of analytics-sink: clinical.canonical.<tier> (or clinical.deidentified.<tier>) + clinical.identity.events → the analytics schema. */
export const analyticsSinkService: ServiceSpec = {
  name: ANALYTICS_SINK_SERVICE,
  defaultPort: 8087,
  module: AnalyticsSinkModule,
  migrations: [AnalyticsSinkTables1795909521857],
  consumers: (app) => analyticsSinkConsumers(
    app.get<AnalyticsSinkConfig>(ANALYTICS_SINK_CONFIG),
    app.get<RecordCanonicalEventHandler>(RECORD_CANONICAL_EVENT_HANDLER),
    app.get<ApplyIdentityChangeHandler>(APPLY_IDENTITY_CHANGE_HANDLER),
  ),
  afterStart: async (_app, ctx) => {
    await ensureOwnTopics(ctx);
  },
};
