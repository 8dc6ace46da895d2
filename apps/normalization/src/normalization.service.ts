import { Module } from '@nestjs/common';
import { Counter } from 'prom-client';
import { tieredConsumer } from '@clinmesh/event-runtime';
import { RuntimeMetrics } from '@clinmesh/observability';
import { DATA_SOURCE, RUNTIME_METRICS, SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { DataSource } from 'typeorm';
import { NormalizeMessageHandler } from './application/normalize-message.handler';
import { NormalizationConfig, loadNormalizationConfig, senderTimeZone } from './config/normalization.config';
import { TerminologyFileSource } from './adapters/terminology/terminology-file.source';
import { CanonicalModelTables1732200002100, CanonicalRecordTable1732200002000, CanonicalResourceTable1732200002200 } from './adapters/persistence/normalization.migrations';
import { CanonicalResourceRepository } from './adapters/persistence/canonical-store.repository';
import { CanonicalChunkStore } from './adapters/persistence/canonical-chunk.store';
import { FhirReadController } from './adapters/http/fhir-read.controller';
import { UnmappedCodesController } from './adapters/http/unmapped-codes.controller';
import { TerminologyController } from './adapters/http/terminology.controller';
import { CANONICAL_RECORDS, NORMALIZATION_CONFIG, NORMALIZE_HANDLER, TERMINOLOGY } from './normalization.tokens';

@Module({
  controllers: [UnmappedCodesController, TerminologyController, FhirReadController],
  providers: [
    { provide: NORMALIZATION_CONFIG, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig) => loadNormalizationConfig((n) => config.env(n)) },
    { provide: TERMINOLOGY, inject: [NORMALIZATION_CONFIG], useFactory: (config: NormalizationConfig) => new TerminologyFileSource(config.terminologyMapFile) },
    { provide: CANONICAL_RECORDS, inject: [DATA_SOURCE], useFactory: (db: DataSource) => new CanonicalResourceRepository(db) },
    {
      provide: NORMALIZE_HANDLER,
      inject: [NORMALIZATION_CONFIG, TERMINOLOGY, RUNTIME_METRICS],
      useFactory: (config: NormalizationConfig, terminology: TerminologyFileSource, metrics: RuntimeMetrics) => {
        const unmappedCounter = unmappedCodesCounter(metrics);
        return new NormalizeMessageHandler({
          terminology: () => terminology.current(),
          senderTimeZone: (system, facility) => senderTimeZone(config, system, facility),
          unmappedObserved: (codes, source) => {
            for (const c of codes) unmappedCounter.inc({ source, element: c.element, reason: c.reason });
          },
        }, (ctx) => CanonicalChunkStore.of(ctx.uow));
      },
    },
  ],
})
class NormalizationModule {}

/** Composition root of normalization: clinical.identified.* → clinical.canonical.*. */
export const normalizationService: ServiceSpec = {
  name: 'normalization',
  defaultPort: 8083,
  module: NormalizationModule,
  migrations: [CanonicalRecordTable1732200002000, CanonicalModelTables1732200002100, CanonicalResourceTable1732200002200],
  consumers: (app) => {
    const normalize = app.get<NormalizeMessageHandler>(NORMALIZE_HANDLER);
    // Set-based per chunk: one read of the chunk's previous publications, the handlers buffer, one flush.
    return tieredConsumer({
      stage: 'identified', schema: 'IdentifiedEvent',
      prepare: (events, uow) => CanonicalChunkStore.of(uow).preload(events.map((e) => e.value.eventId)),
      handle: (event, ctx) => normalize.handle(event, ctx),
      complete: (uow) => CanonicalChunkStore.of(uow).flush(),
    });
  },
};

/** Codes the terminology could not translate, on the runtime's registry (registered once per registry: a second module instance reuses it). */
function unmappedCodesCounter(metrics: RuntimeMetrics): Counter<string> {
  const name = 'clinmesh_canonical_unmapped_codes_total';
  return (metrics.registry.getSingleMetric(name) as Counter<string> | undefined) ?? new Counter({
    name, help: 'Local codes the terminology maps could not translate (kept on the record, flagged), by source, element and reason',
    labelNames: ['source', 'element', 'reason'], registers: [metrics.registry],
  });
}
