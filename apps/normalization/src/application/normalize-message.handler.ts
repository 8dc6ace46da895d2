import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import { stageTopic } from '@clinmesh/topology';
import type { IdentifiedEvent } from '@clinmesh/schemas';
import { toCanonicalEnvelope } from '../domain/canonical-envelope.mapper';

/** identified → canonical; records what it published so replays can be compared. */
export class NormalizeMessageHandler {
  async handle(event: InboundEvent<IdentifiedEvent>, ctx: EventContext): Promise<void> {
    const canonical = toCanonicalEnvelope(event.value, ctx.deriveEventId('canonical'), Date.now());
    await ctx.uow.execute(
      `INSERT INTO nz_canonical_record (canonical_id, epid, resource_type, last_event_id, mapping_version, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (canonical_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, mapping_version = EXCLUDED.mapping_version, updated_at = now()`,
      [canonical.canonicalId, canonical.epid, canonical.resourceType, canonical.eventId, canonical.provenance.mappingVersion],
    );
    ctx.emit({ topic: stageTopic('canonical', canonical.tier), key: canonical.epid || canonical.correlationId, value: canonical, eventId: canonical.eventId, eventType: 'CanonicalEvent' });
  }
}
