import { ConsumerDefinition, tieredConsumer, topicConsumer } from '@clinmesh/event-runtime';
import { EVENT_TOPICS } from '@clinmesh/topology';
import type { RouteCanonicalEventHandler } from './application/route-canonical-event.handler';
import type { DeliveryEventsHandler, IdentityEventsHandler } from './application/patient-events.handlers';

/** Policy's consumers: the canonical tiers, identity events (consent patients, merges), delivery events (accounting of disclosures). */
export function policyConsumers(route: RouteCanonicalEventHandler, identity: IdentityEventsHandler, deliveries: DeliveryEventsHandler): ConsumerDefinition[] {
  return [
    // Set-based per chunk (PolicyChunkStore): one read per table of the chunk's patients' state, the handlers buffer, one write per table.
    ...tieredConsumer({
      stage: 'canonical', schema: 'CanonicalEvent',
      prepare: (events, uow) => route.prepare(events, uow),
      handle: (event, ctx) => route.handle(event, ctx),
      complete: (uow) => route.complete(uow),
    }),
    // Link events set-based per chunk (IdentityEventsHandler.prepare): one index upsert and one consent statement per chunk.
    topicConsumer({
      name: 'identity-events', topic: EVENT_TOPICS.identity, schema: 'IdentityEvent', tier: 'urgent',
      prepare: (events, uow) => identity.prepare(events, uow), handle: (event, ctx) => identity.handle(event, ctx),
    }),
    topicConsumer({
      name: 'delivery-events', topic: EVENT_TOPICS.delivery, schema: 'DeliveryEvent', handle: (event, ctx) => deliveries.handle(event, ctx), complete: (uow) => deliveries.complete(uow),
    }),
  ];
}
