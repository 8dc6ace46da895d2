import { ConsumerDefinition, EventContext, tieredConsumer, topicConsumer } from '@clinmesh/event-runtime';
import { EVENT_TOPICS, deidentifiedTopic } from '@clinmesh/topology';
import type { CanonicalEvent, IdentityEvent } from '@clinmesh/schemas';
import { AnalyticsSinkConfig } from './config/analytics-sink.config';

/** What the consumers hand each canonical event to. */
export interface CanonicalEventHandler {
  handle(event: CanonicalEvent, ctx: EventContext): Promise<unknown>;
}
export interface IdentityEventHandler {
  handle(event: IdentityEvent, ctx: EventContext): Promise<unknown>;
}

/**
 * One consumer per configured tier through the event runtime (inbox dedupe, stored offsets,
 * dead letters, replay, metrics): groups `analytics-sink.<tier>` on clinical.canonical.<tier>,
 * or `analytics-sink.deidentified.<tier>` on clinical.deidentified.<tier> (the routed
 * de-identified view, whose epid is a pseudonym), plus `analytics-sink.identity-events` on
 * clinical.identity.events for merges (identified mode only: pseudonyms do not merge).
 */
export function analyticsSinkConsumers(config: AnalyticsSinkConfig, handler: CanonicalEventHandler, identity: IdentityEventHandler): ConsumerDefinition[] {
  if (config.topics === 'deidentified') {
    return config.tiers.map((tier) => topicConsumer({
      name: `deidentified.${tier}`,
      topic: deidentifiedTopic(tier),
      schema: 'RoutedEvent',
      tier,
      handle: async (event, ctx) => {
        await handler.handle({ ...event.value.canonical, epid: event.value.epid }, ctx);
      },
    }));
  }
  return [
    ...tieredConsumer({ stage: 'canonical', tiers: config.tiers, schema: 'CanonicalEvent', handle: async (event, ctx) => {
      await handler.handle(event.value, ctx);
    } }),
    topicConsumer({ name: 'identity-events', topic: EVENT_TOPICS.identity, schema: 'IdentityEvent', tier: 'urgent', handle: async (event, ctx) => {
      await identity.handle(event.value, ctx);
    } }),
  ];
}
