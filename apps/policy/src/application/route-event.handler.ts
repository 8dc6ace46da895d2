import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import { stageTopic } from '@clinmesh/topology';
import type { CanonicalEvent, RoutedEvent } from '@clinmesh/schemas';
import { RoutingPolicy, decideRouting } from '../domain/routing-policy';

/** canonical → routed: applies the routing policy and keeps the decision for explanation. */
export class RouteEventHandler {
  constructor(private readonly policy: () => RoutingPolicy) {}

  async handle(event: InboundEvent<CanonicalEvent>, ctx: EventContext): Promise<void> {
    const canonical = event.value;
    const messageType = canonical.provenance.sourceMessageType;
    const decision = decideRouting(this.policy(), { messageType, resourceType: canonical.resourceType, tier: canonical.tier });
    const routed: RoutedEvent = {
      eventId: ctx.deriveEventId('routed'),
      correlationId: event.correlationId,
      causationId: event.eventId,
      epid: canonical.epid,
      tier: decision.tier,
      decision: {
        policyVersion: decision.policyVersion,
        ruleIds: decision.ruleIds,
        workflows: decision.workflows,
        audiences: decision.audiences,
        originalTier: decision.originalTier,
        explanation: decision.explanation,
      },
      canonical,
    };
    await ctx.uow.execute(
      `INSERT INTO pl_decision (event_id, correlation_id, canonical_event_id, epid, policy_version, rule_ids, workflows, audiences, tier, original_tier, explanation)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (event_id) DO NOTHING`,
      [routed.eventId, routed.correlationId, event.eventId, routed.epid, decision.policyVersion, decision.ruleIds, decision.workflows, decision.audiences, decision.tier, decision.originalTier, decision.explanation],
    );
    ctx.emit({ topic: stageTopic('routed', decision.tier), key: canonical.epid || canonical.correlationId, value: routed, eventId: routed.eventId, tier: decision.tier, eventType: 'RoutedEvent' });
  }
}
