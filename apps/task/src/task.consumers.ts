import { ConsumerDefinition, EventContext, UnitOfWork, tieredConsumer, topicConsumer } from '@clinmesh/event-runtime';
import { EVENT_TOPICS } from '@clinmesh/topology';
import { TaskLifecycle } from './application/task-lifecycle';
import { OpenRoutedTasksHandler } from './application/open-routed-tasks.handler';
import { DeliveryEventsHandler, IdentityEventsHandler, OperationsEventsHandler, PolicyEventsHandler } from './application/work-queue.handlers';
import { TaskChunkStore } from './adapters/persistence/task-chunk.store';

/**
 * What task consumes: the routed views of every tier (clinical tasks), and
 * the single topics its work queues follow — identity (review items,
 * merges), policy (break-glass), operations (dead letters) and delivery
 * receipts (failed handoffs).
 *
 * Every consumer works on the transaction's TaskChunkStore (set-based per chunk): the routed
 * consumer's prepare reads what its chunk needs in one statement, the handlers read and change the
 * buffered state, and one complete — shared by every definition, so it runs once per transaction
 * even when the lane combines chunks of several — writes it in one statement.
 * HTTP requests and timers (one task per transaction) use PgTaskStore directly.
 */
export function taskConsumers(lifecycle: TaskLifecycle): ConsumerDefinition[] {
  const stores = (ctx: EventContext) => TaskChunkStore.of(ctx.uow);
  const complete = (uow: UnitOfWork) => TaskChunkStore.of(uow).flush();
  const routed = new OpenRoutedTasksHandler(lifecycle, stores);
  const identity = new IdentityEventsHandler(lifecycle, stores);
  const policy = new PolicyEventsHandler(lifecycle, stores);
  const operations = new OperationsEventsHandler(lifecycle, stores);
  const delivery = new DeliveryEventsHandler(lifecycle, stores);
  return [
    ...tieredConsumer({
      stage: 'routed', schema: 'RoutedEvent',
      prepare: (events, uow) => TaskChunkStore.of(uow).preload(routed.needs(events)),
      handle: (event, ctx) => routed.handle(event, ctx),
      complete,
    }),
    topicConsumer({ name: 'identity-events', topic: EVENT_TOPICS.identity, schema: 'IdentityEvent', tier: 'urgent', handle: (event, ctx) => identity.handle(event, ctx), complete }),
    topicConsumer({ name: 'policy-events', topic: EVENT_TOPICS.policy, schema: 'PolicyEvent', tier: 'urgent', handle: (event, ctx) => policy.handle(event, ctx), complete }),
    topicConsumer({ name: 'operations-events', topic: EVENT_TOPICS.operations, schema: 'OperationsEvent', tier: 'urgent', handle: (event, ctx) => operations.handle(event, ctx), complete }),
    topicConsumer({ name: 'delivery-events', topic: EVENT_TOPICS.delivery, schema: 'DeliveryEvent', tier: 'urgent', handle: (event, ctx) => delivery.handle(event, ctx), complete }),
  ];
}
