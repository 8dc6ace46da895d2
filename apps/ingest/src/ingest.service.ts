import { Module } from '@nestjs/common';
import express from 'express';
import { EventRuntime } from '@clinmesh/event-runtime';
import { RuntimeMetrics } from '@clinmesh/observability';
import { DATA_SOURCE, EVENT_RUNTIME, RUNTIME_METRICS, SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { DataSource } from 'typeorm';
import triageRulesData from './domain/triage/triage-rules.data.json';
import { TriageRules, validateTriageRules } from './domain/triage/triage.policy';
import { SenderRateLimiter } from './domain/rate-limit/sender-rate.limiter';
import { AcceptHl7MessageHandler } from './application/accept-hl7-message.handler';
import { AcceptFhirPayloadHandler } from './application/accept-fhir-payload.handler';
import { IntakeGate } from './application/intake.gate';
import { AcceptedMessageWriter } from './application/accepted-message.writer';
import { BulkIntakePacer } from './application/bulk-intake.pacer';
import { IngestConfig, loadIngestConfig } from './config/ingest.config';
import { IngestTables1732200000100 } from './adapters/persistence/ingest.tables';
import { IngestContentDedupe1764374400000 } from './adapters/persistence/ingest-content-dedupe.migration';
import { MessageRepository } from './adapters/persistence/message.repository';
import { IngestMetrics } from './adapters/metrics/ingest.metrics';
import { Hl7v2Controller } from './adapters/http/hl7v2.controller';
import { FhirController } from './adapters/http/fhir.controller';
import { MessagesController } from './adapters/http/messages.controller';
import { ACCEPT_FHIR, ACCEPT_HL7, BULK_INTAKE_PACER, INGEST_CONFIG, INGEST_METRICS, INTAKE_GATE, MESSAGES } from './adapters/http/ingest.tokens';
import { createIngestMllpListener } from './adapters/mllp/mllp.listener';
import { ingestLineage } from './adapters/persistence/ingest-lineage.reader';

/** HL7 v2 message types ingest accepts (MSH-9.1); others are refused with AR 200. */
const SUPPORTED_TYPES = ['ADT', 'ORU', 'ORM', 'OML', 'OUL', 'SIU', 'MDM', 'REF', 'RRI', 'RDE', 'RDS', 'RAS', 'VXU', 'BAR', 'DFT', 'MFN', 'PPR', 'QBP', 'ORL', 'OMG'];

const triageRules: TriageRules = validateTriageRules(triageRulesData as TriageRules);

/** One rate limiter per process, shared by the HL7 v2 (sender = MSH-3^MSH-4) and FHIR (sender = token client) intakes. */
const RATE_LIMITER = Symbol('RATE_LIMITER');
const ACCEPTED_WRITER = Symbol('ACCEPTED_WRITER');

@Module({
  controllers: [Hl7v2Controller, FhirController, MessagesController],
  providers: [
    // Every INGEST_* setting is read and validated here, once: a bad value stops the start with all problems listed.
    { provide: INGEST_CONFIG, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig) => loadIngestConfig(config) },
    { provide: INGEST_METRICS, inject: [RUNTIME_METRICS], useFactory: (metrics: RuntimeMetrics) => new IngestMetrics(metrics) },
    { provide: INTAKE_GATE, inject: [INGEST_CONFIG], useFactory: (config: IngestConfig) => new IntakeGate(config.intakeClosedRetryAfterSeconds) },
    { provide: RATE_LIMITER, inject: [INGEST_CONFIG], useFactory: (config: IngestConfig) => new SenderRateLimiter(config.rateLimits) },
    { provide: BULK_INTAKE_PACER, inject: [INGEST_CONFIG], useFactory: (config: IngestConfig) => new BulkIntakePacer(config.bulkIntakePacing) },
    { provide: MESSAGES, inject: [DATA_SOURCE], useFactory: (db: DataSource) => new MessageRepository(db) },
    // One writer for both intakes: HL7 v2 and FHIR messages arriving together share a group commit.
    { provide: ACCEPTED_WRITER, inject: [MESSAGES, EVENT_RUNTIME], useFactory: (messages: MessageRepository, runtime: EventRuntime) => new AcceptedMessageWriter(messages, runtime) },
    {
      provide: ACCEPT_HL7,
      inject: [MESSAGES, ACCEPTED_WRITER, INGEST_METRICS, INGEST_CONFIG, SERVICE_CONFIG, RATE_LIMITER, BULK_INTAKE_PACER],
      useFactory: (messages: MessageRepository, writer: AcceptedMessageWriter, metrics: IngestMetrics, config: IngestConfig, service: ServiceConfig, rateLimiter: SenderRateLimiter,
        pacer: BulkIntakePacer) =>
        new AcceptHl7MessageHandler(messages, writer, metrics, triageRules, {
          maxMessageBytes: config.maxMessageBytes,
          allowedSenders: config.allowedSenders,
          supportedMessageTypes: new Set(SUPPORTED_TYPES),
          receivingApplication: config.receivingApplication,
          receivingFacility: config.receivingFacility,
          patientKeySecret: service.patientKeySecret,
          rateLimiter,
          pacer,
        }),
    },
    {
      provide: ACCEPT_FHIR,
      inject: [MESSAGES, ACCEPTED_WRITER, INGEST_METRICS, INGEST_CONFIG, SERVICE_CONFIG, RATE_LIMITER],
      useFactory: (messages: MessageRepository, writer: AcceptedMessageWriter, metrics: IngestMetrics, config: IngestConfig, service: ServiceConfig, rateLimiter: SenderRateLimiter) =>
        new AcceptFhirPayloadHandler(messages, writer, metrics, triageRules, {
          maxMessageBytes: config.maxMessageBytes, maxBundleEntries: config.maxBundleEntries, patientKeySecret: service.patientKeySecret, rateLimiter,
          requiredElements: config.fhirRequiredElements,
        }),
    },
  ],
})
class IngestModule {}

/** Composition root of ingest: HTTP (HL7 v2, FHIR) and MLLP in; clinical.ingested.* out. */
export const ingestService: ServiceSpec = {
  name: 'ingest',
  lineage: ingestLineage,
  defaultPort: 8080,
  module: IngestModule,
  migrations: [IngestTables1732200000100, IngestContentDedupe1764374400000],
  bodyParsers: (app) => {
    // Raw bytes for the intake routes: HL7 must be stored exactly as received, and oversize is judged (and kept) by the intake itself.
    const limit = app.get<IngestConfig>(INGEST_CONFIG).maxMessageBytes * 4;
    app.use('/v1/hl7v2', express.raw({ type: () => true, limit }));
    app.use('/v1/fhir', express.raw({ type: () => true, limit }));
  },
  afterStart: async (app, ctx) => {
    const config = app.get<IngestConfig>(INGEST_CONFIG);
    const gate = app.get<IntakeGate>(INTAKE_GATE);
    const listener = createIngestMllpListener(config, app.get(ACCEPT_HL7), app.get(INGEST_METRICS), ctx.logger);
    const { port } = await listener.listen();
    ctx.logger.info({ mllpPort: port, frameTimeoutMs: config.mllp.frameTimeoutMs, maxConnectionsPerSource: config.mllp.maxConnectionsPerSource }, 'MLLP listening');
    return {
      // Graceful stop, first step: HTTP intake answers 503 + Retry-After from now on; MLLP refuses new
      // connections, stops reading and answers every frame it already received, then closes.
      closeIntake: async () => {
        gate.close();
        ctx.logger.info({ mllpConnections: listener.connections() }, 'intake closed: HTTP intake answers 503, MLLP takes no new frames; answering the frames in flight');
        await listener.close({ forceAfterMs: config.mllp.closeGraceMs });
        ctx.logger.info('MLLP listener closed');
      },
      stop: () => listener.close({ forceAfterMs: config.mllp.closeGraceMs }),
    };
  },
};
