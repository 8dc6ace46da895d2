import { Module } from '@nestjs/common';
import { tieredConsumer } from '@clinmesh/event-runtime';
import { DATA_SOURCE, SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { DataSource } from 'typeorm';
import { FanOutDeliveriesHandler } from './application/fan-out-deliveries.handler';
import { NotifierTables1732200005000 } from './adapters/persistence/notifier.tables';
import { SubscriptionRepository } from './adapters/persistence/subscription.repository';
import { SecretBox } from './adapters/persistence/secret-box';
import { SubscriptionController } from './adapters/http/subscription.controller';
import { SUBSCRIPTIONS } from './adapters/http/notifier.tokens';
import { WebhookDeliveryWorker } from './adapters/webhook/webhook-delivery.worker';

@Module({
  controllers: [SubscriptionController],
  providers: [{
    provide: SUBSCRIPTIONS,
    inject: [DATA_SOURCE, SERVICE_CONFIG],
    useFactory: (db: DataSource, config: ServiceConfig) => new SubscriptionRepository(db, new SecretBox(config.env('SECRET_KEY') ?? config.authSecret)),
  }],
})
class NotifierModule {}

let worker: WebhookDeliveryWorker | undefined;

/** Composition root of notifier: clinical.tasks.* → durable, signed webhook deliveries (+ receipts). */
export const notifierService: ServiceSpec = {
  name: 'notifier',
  defaultPort: 8086,
  module: NotifierModule,
  migrations: [NotifierTables1732200005000],
  consumers: (app) => {
    const subscriptions = app.get<SubscriptionRepository>(SUBSCRIPTIONS);
    const fanOut = new FanOutDeliveriesHandler(() => subscriptions.active(), () => worker?.notify());
    return tieredConsumer({ stage: 'tasks', schema: 'TaskEvent', handle: (event, ctx) => fanOut.handle(event, ctx) });
  },
  afterStart: async (app, ctx) => {
    worker = new WebhookDeliveryWorker(ctx.runtime, app.get<SubscriptionRepository>(SUBSCRIPTIONS), ctx.metrics, ctx.logger, {
      concurrency: Number(ctx.config.env('DELIVERY_CONCURRENCY') ?? 32),
      leaseSeconds: Number(ctx.config.env('DELIVERY_LEASE_SECONDS') ?? 30),
      timeoutMs: Number(ctx.config.env('DELIVERY_TIMEOUT_MS') ?? 10000),
      pollMs: Number(ctx.config.env('DELIVERY_POLL_MS') ?? 200),
    });
    worker.start();
    return () => worker!.stop();
  },
};
