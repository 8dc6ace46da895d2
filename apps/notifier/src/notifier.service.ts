import { Module } from '@nestjs/common';
import { EventRuntime } from '@clinmesh/event-runtime';
import { DATA_SOURCE, EVENT_RUNTIME, SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { DataSource } from 'typeorm';
import { NotifierConfig, loadNotifierConfig } from './config/notifier.config';
import { ManageSubscriptionsHandler } from './application/manage-subscriptions.handler';
import { FanOutHandler } from './application/fan-out.handler';
import { fanOutChunks } from './application/fan-out-chunk';
import { RevokeDecisionHandler } from './application/revoke-decision.handler';
import { RecordAttemptHandler } from './application/record-attempt.handler';
import { DeliveryReceipts } from './application/delivery-receipts';
import { NOTIFIER_MIGRATIONS } from './adapters/persistence/notifier-v2.migration';
import { SubscriptionRepository } from './adapters/persistence/subscription.repository';
import { DeliveryRepository } from './adapters/persistence/delivery.repository';
import { SecretBox } from './adapters/persistence/secret-box';
import { PinnedHttpClient } from './adapters/webhook/pinned-http.client';
import { DeliveryWorker } from './adapters/webhook/delivery.worker';
import { WorkerHolder } from './adapters/webhook/worker.holder';
import { BulkDeliveryPacer } from './adapters/webhook/bulk-delivery.pacer';
import { registerBreakerGauge } from './adapters/metrics/breaker.metrics';
import { HeartbeatScheduler } from './adapters/fhir/heartbeat.scheduler';
import { FhirSubscriptionController } from './adapters/fhir/fhir-subscription.controller';
import { SubscriptionController } from './adapters/http/subscription.controller';
import { DeliveryController } from './adapters/http/delivery.controller';
import { DELIVERIES, MANAGE_SUBSCRIPTIONS, NOTIFIER_CONFIG, PINNED_HTTP, SECRET_BOX, SUBSCRIPTIONS } from './adapters/http/notifier.tokens';
import { notifierConsumers } from './notifier.consumers';
import { notifierLineage } from './adapters/persistence/notifier-lineage.reader';

@Module({
  controllers: [SubscriptionController, DeliveryController, FhirSubscriptionController],
  providers: [
    WorkerHolder,
    // Every NOTIFIER_* setting is read and validated here, once.
    { provide: NOTIFIER_CONFIG, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig) => loadNotifierConfig(config) },
    { provide: SECRET_BOX, inject: [NOTIFIER_CONFIG], useFactory: (c: NotifierConfig) => new SecretBox(c.secretKey) },
    { provide: SUBSCRIPTIONS, inject: [DATA_SOURCE, SECRET_BOX], useFactory: (db: DataSource, box: SecretBox) => new SubscriptionRepository(db, box) },
    { provide: DELIVERIES, inject: [DATA_SOURCE], useFactory: (db: DataSource) => new DeliveryRepository(db) },
    { provide: PINNED_HTTP, inject: [NOTIFIER_CONFIG], useFactory: (c: NotifierConfig) => new PinnedHttpClient(c.ssrf.allowlist, { httpsOnly: c.ssrf.httpsOnly }) },
    {
      provide: MANAGE_SUBSCRIPTIONS,
      inject: [SUBSCRIPTIONS, PINNED_HTTP, NOTIFIER_CONFIG],
      useFactory: (store: SubscriptionRepository, http: PinnedHttpClient, c: NotifierConfig) => new ManageSubscriptionsHandler({
        store, checkEndpoint: (url) => http.check(url), rotationGraceMs: c.rotationGraceMs, resourceBaseUrl: c.fhir.resourceBaseUrl, subscriptionBaseUrl: c.fhir.subscriptionBaseUrl,
      }),
    },
  ],
})
class NotifierModule {}

/** Composition root of notifier: routed views and task events → durable, signed webhook and FHIR deliveries (+ delivery events). */
export const notifierService: ServiceSpec = {
  name: 'notifier',
  lineage: notifierLineage,
  defaultPort: 8086,
  module: NotifierModule,
  migrations: NOTIFIER_MIGRATIONS,
  consumers: (app) => {
    const config = app.get<NotifierConfig>(NOTIFIER_CONFIG);
    const deliveries = app.get<DeliveryRepository>(DELIVERIES);
    // The worker exists only after start; consumers wake it through the runtime-independent hook below.
    // One fan-out chunk per consumer transaction, shared by the fan-out and the revocation handler.
    const chunks = fanOutChunks(deliveries);
    const fanOut = new FanOutHandler(app.get<SubscriptionRepository>(SUBSCRIPTIONS), deliveries, chunks,
      { resourceBaseUrl: config.fhir.resourceBaseUrl, subscriptionBaseUrl: config.fhir.subscriptionBaseUrl }, () => app.get<WorkerHolder>(WorkerHolder).worker?.notify());
    return notifierConsumers(fanOut, new RevokeDecisionHandler(deliveries, chunks, new DeliveryReceipts()));
  },
  afterStart: async (app, ctx) => {
    const config = app.get<NotifierConfig>(NOTIFIER_CONFIG);
    const deliveries = app.get<DeliveryRepository>(DELIVERIES);
    const runtime = app.get<EventRuntime>(EVENT_RUNTIME);
    const attempts = new RecordAttemptHandler(runtime, deliveries, new DeliveryReceipts(), {
      retryScheduleMs: config.delivery.retryScheduleMs, jitter: config.delivery.jitter, maxRetryAfterMs: config.delivery.maxRetryAfterMs,
      breaker: config.breaker, disableAfterMs: config.disableAfterMs,
    });
    const worker = new DeliveryWorker(deliveries, attempts, app.get<PinnedHttpClient>(PINNED_HTTP), app.get<SecretBox>(SECRET_BOX), ctx.metrics, ctx.logger, {
      concurrency: config.delivery.concurrency, perSubscription: config.delivery.maxInFlightPerSubscription, leaseSeconds: config.delivery.leaseSeconds, timeoutMs: config.delivery.timeoutMs, pollMs: config.delivery.pollMs,
    }, new BulkDeliveryPacer(runtime.bulkPacing, (withinMs) => runtime.governor.activeAbove('bulk', withinMs)));
    app.get<WorkerHolder>(WorkerHolder).worker = worker;
    registerBreakerGauge(ctx.metrics, app.get<SubscriptionRepository>(SUBSCRIPTIONS));
    const heartbeats = new HeartbeatScheduler(app.get<SubscriptionRepository>(SUBSCRIPTIONS), {
      everyMs: config.fhir.heartbeatCheckMs, resourceBaseUrl: config.fhir.resourceBaseUrl, subscriptionBaseUrl: config.fhir.subscriptionBaseUrl,
    }, ctx.logger, () => worker.notify());
    ctx.logger.info({ allowlist: config.ssrf.allowlistSource, httpsOnly: config.ssrf.httpsOnly, retryScheduleMs: config.delivery.retryScheduleMs }, 'webhook delivery settings');
    worker.start();
    heartbeats.start();
    return async () => {
      heartbeats.stop();
      await worker.stop();
      app.get<PinnedHttpClient>(PINNED_HTTP).close();
    };
  },
};
