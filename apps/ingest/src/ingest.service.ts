import { Module } from '@nestjs/common';
import express from 'express';
import { Counter } from 'prom-client';
import { EventRuntime } from '@clinmesh/event-runtime';
import { RuntimeMetrics } from '@clinmesh/observability';
import { DATA_SOURCE, EVENT_RUNTIME, RUNTIME_METRICS, SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { DataSource } from 'typeorm';
import triageRulesData from './domain/triage/triage-rules.data.json';
import { TriageRules, validateTriageRules } from './domain/triage/triage.policy';
import { AcceptHl7MessageHandler } from './application/accept-hl7-message.handler';
import { AcceptFhirPayloadHandler } from './application/accept-fhir-payload.handler';
import { IntakeMetricsPort } from './application/intake.ports';
import { IngestTables1732200000100 } from './adapters/persistence/ingest.tables';
import { MessageRepository } from './adapters/persistence/message.repository';
import { Hl7v2Controller } from './adapters/http/hl7v2.controller';
import { FhirController } from './adapters/http/fhir.controller';
import { MessagesController } from './adapters/http/messages.controller';
import { ACCEPT_FHIR, ACCEPT_HL7, MESSAGES } from './adapters/http/ingest.tokens';
import { createIngestMllpListener } from './adapters/mllp/mllp.listener';
import { SenderRateLimiter, parseRateLimits } from './domain/rate-limit/sender-rate.limiter';

/** HL7 v2 message types ingest accepts (MSH-9.1); others are refused with AR 200. */
const SUPPORTED_TYPES = ['ADT', 'ORU', 'ORM', 'OML', 'OUL', 'SIU', 'MDM', 'REF', 'RRI', 'RDE', 'RDS', 'RAS', 'VXU', 'BAR', 'DFT', 'MFN', 'PPR', 'QBP', 'ORL', 'OMG'];

function limits(config: ServiceConfig) {
  return {
    maxMessageBytes: Number(config.env('MAX_MESSAGE_BYTES') ?? 2 * 1024 * 1024),
    maxBundleEntries: Number(config.env('MAX_BUNDLE_ENTRIES') ?? 1000),
  };
}

/** One limiter per process, shared by the HL7 v2 (sender = MSH-3^MSH-4) and FHIR (sender = token client) intakes. */
let rateLimiter: SenderRateLimiter | undefined;
function senderRateLimiter(config: ServiceConfig): SenderRateLimiter {
  if (rateLimiter) return rateLimiter;
  const { limits: parsed, problems } = parseRateLimits({
    perSecond: config.env('RATE_LIMIT_PER_SECOND'), burst: config.env('RATE_LIMIT_BURST'), overrides: config.env('RATE_LIMIT_OVERRIDES'),
  });
  const l = limits(config);
  for (const [name, v] of Object.entries(l)) if (!Number.isInteger(v) || v < 1) problems.push(`INGEST_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()} must be a positive integer`);
  if (problems.length) throw new Error(`invalid ingest configuration: ${problems.join('; ')}`);
  rateLimiter = new SenderRateLimiter(parsed);
  return rateLimiter;
}

let intakeCounter: Counter<string> | undefined;
function intakeMetrics(metrics: RuntimeMetrics): IntakeMetricsPort {
  intakeCounter ??= new Counter({
    name: 'clinmesh_ingest_messages_total', help: 'Messages received by sender, type, tier, channel and outcome (accepted, duplicate, rejected by reason)',
    labelNames: ['sender', 'message_type', 'tier', 'outcome', 'reason', 'channel'], registers: [metrics.registry],
  });
  return { outcome: (l) => intakeCounter!.inc({ sender: l.sender, message_type: l.messageType, tier: l.tier, outcome: l.outcome, reason: l.reason ?? '', channel: l.channel }) };
}

const triageRules: TriageRules = validateTriageRules(triageRulesData as TriageRules);

@Module({
  controllers: [Hl7v2Controller, FhirController, MessagesController],
  providers: [
    { provide: MESSAGES, inject: [DATA_SOURCE], useFactory: (db: DataSource) => new MessageRepository(db) },
    {
      provide: ACCEPT_HL7,
      inject: [MESSAGES, EVENT_RUNTIME, RUNTIME_METRICS, SERVICE_CONFIG],
      useFactory: (messages: MessageRepository, runtime: EventRuntime, metrics: RuntimeMetrics, config: ServiceConfig) =>
        new AcceptHl7MessageHandler(messages, runtime, intakeMetrics(metrics), triageRules, {
          maxMessageBytes: limits(config).maxMessageBytes,
          allowedSenders: config.env('ALLOWED_SENDERS') ? new Set(config.env('ALLOWED_SENDERS')!.split(',').map((s) => s.trim())) : undefined,
          supportedMessageTypes: new Set(SUPPORTED_TYPES),
          receivingApplication: config.env('RECEIVING_APPLICATION') ?? 'CLINMESH',
          receivingFacility: config.env('RECEIVING_FACILITY') ?? 'CLINMESH',
          patientKeySecret: config.patientKeySecret,
          rateLimiter: senderRateLimiter(config),
        }),
    },
    {
      provide: ACCEPT_FHIR,
      inject: [MESSAGES, EVENT_RUNTIME, RUNTIME_METRICS, SERVICE_CONFIG],
      useFactory: (messages: MessageRepository, runtime: EventRuntime, metrics: RuntimeMetrics, config: ServiceConfig) =>
        new AcceptFhirPayloadHandler(messages, runtime, intakeMetrics(metrics), triageRules, {
          ...limits(config), patientKeySecret: config.patientKeySecret, rateLimiter: senderRateLimiter(config),
          requiredElements: config.env('FHIR_REQUIRED_ELEMENTS') === 'error' ? 'error' : 'warning',
        }),
    },
  ],
})
class IngestModule {}

/** Composition root of ingest: HTTP (HL7 v2, FHIR) and MLLP in; clinical.ingested.* out. */
export const ingestService: ServiceSpec = {
  name: 'ingest',
  defaultPort: 8080,
  module: IngestModule,
  migrations: [IngestTables1732200000100],
  bodyParsers: (app, config) => {
    // Raw bytes for the intake routes: HL7 must be stored exactly as received, and oversize is judged (and kept) by the intake itself.
    const limit = limits(config).maxMessageBytes * 4;
    app.use('/v1/hl7v2', express.raw({ type: () => true, limit }));
    app.use('/v1/fhir', express.raw({ type: () => true, limit }));
  },
  afterStart: async (app, ctx) => {
    const listener = createIngestMllpListener(ctx.config, app.get(ACCEPT_HL7), ctx.metrics, ctx.logger, limits(ctx.config).maxMessageBytes);
    const { port } = await listener.listen();
    ctx.logger.info({ mllpPort: port }, 'MLLP listening');
    return () => listener.close();
  },
};
