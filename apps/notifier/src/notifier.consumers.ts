import { ConsumerDefinition, tieredConsumer, topicConsumer } from '@clinmesh/event-runtime';
import { EVENT_TOPICS } from '@clinmesh/topology';
import { FanOutHandler } from './application/fan-out.handler';
import { RevokeDecisionHandler } from './application/revoke-decision.handler';

/**
 * Notifier's consumers: the routed views policy publishes per audience
 * (clinical.routed.*), task lifecycle events (clinical.tasks.*, tiered
 * consumer `tasks`), and decision revocations (clinical.policy.events).
 */
export function notifierConsumers(fanOut: FanOutHandler, revoke: RevokeDecisionHandler): ConsumerDefinition[] {
  return [
    // One complete step (the same function) for both: a transaction holding views and task events inserts their deliveries at once.
    ...tieredConsumer({ stage: 'routed', schema: 'RoutedEvent', handle: fanOut.handleRouted, prepare: fanOut.prepareRouted, complete: fanOut.complete }),
    ...tieredConsumer({ stage: 'tasks', name: 'tasks', schema: 'TaskEvent', handle: fanOut.handleTask, complete: fanOut.complete }),
    topicConsumer({ name: 'policy-events', topic: EVENT_TOPICS.policy, schema: 'PolicyEvent', tier: 'urgent', handle: revoke.handle }),
  ];
}
