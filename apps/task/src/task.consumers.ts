import { ConsumerDefinition, EventContext, tieredConsumer, topicConsumer } from '@clinmesh/event-runtime';
import { EVENT_TOPICS } from '@clinmesh/topology';
import { TaskLifecycle } from './application/task-lifecycle';
import { OpenRoutedTasksHandler } from './application/open-routed-tasks.handler';
import { DeliveryEventsHandler, IdentityEventsHandler, OperationsEventsHandler, PolicyEventsHandler } from './application/work-queue.handlers';
import { PgTaskStore } from './adapters/persistence/task.store';

/**
 * What task consumes: the routed views of every tier (clinical tasks), and
 * the single topics its work queues follow — identity (review items,
 * merges), policy (break-glass), operations (dead letters) and delivery
 * receipts (failed handoffs).
 */
export function taskConsumers(lifecycle: TaskLifecycle): ConsumerDefinition[] {
  const stores = (ctx: EventContext) => new PgTaskStore(ctx.uow);
  const routed = new OpenRoutedTasksHandler(lifecycle, stores);
  const identity = new IdentityEventsHandler(lifecycle, stores);
  const policy = new PolicyEventsHandler(lifecycle, stores);
  const operations = new OperationsEventsHandler(lifecycle, stores);
  const delivery = new DeliveryEventsHandler(lifecycle, stores);
  return [
    ...tieredConsumer({ stage: 'routed', schema: 'RoutedEvent', handle: (event, ctx) => routed.handle(event, ctx) }),
    topicConsumer({ name: 'identity-events', topic: EVENT_TOPICS.identity, schema: 'IdentityEvent', tier: 'urgent', handle: (event, ctx) => identity.handle(event, ctx) }),
    topicConsumer({ name: 'policy-events', topic: EVENT_TOPICS.policy, schema: 'PolicyEvent', tier: 'urgent', handle: (event, ctx) => policy.handle(event, ctx) }),
    topicConsumer({ name: 'operations-events', topic: EVENT_TOPICS.operations, schema: 'OperationsEvent', tier: 'urgent', handle: (event, ctx) => operations.handle(event, ctx) }),
    topicConsumer({ name: 'delivery-events', topic: EVENT_TOPICS.delivery, schema: 'DeliveryEvent', tier: 'urgent', handle: (event, ctx) => delivery.handle(event, ctx) }),
  ];
}
