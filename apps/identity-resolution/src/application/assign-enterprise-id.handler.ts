import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import { EVENT_TOPICS, stageTopic } from '@clinmesh/topology';
import type { IdentifiedEvent, IdentityEvent, IngestedEvent } from '@clinmesh/schemas';
import { enterpriseIdFor } from '../domain/enterprise-id';
import { PersonIndexPort } from '../domain/person-index.port';

/**
 * Ties an ingested message to an enterprise patient by exact source
 * identifier (the probabilistic matcher replaces this step's rule later) and
 * publishes it keyed by EPID, plus an identity event when a person is new.
 */
export class AssignEnterpriseIdHandler {
  constructor(private readonly personIndex: (ctx: EventContext) => PersonIndexPort) {}

  async handle(event: InboundEvent<IngestedEvent>, ctx: EventContext): Promise<void> {
    const ingested = event.value;
    let epid = '';
    let created = false;
    if (ingested.sourcePatientKey) {
      ({ epid, created } = await this.personIndex(ctx).linkBySourceKey(ingested.sourcePatientKey, enterpriseIdFor(ingested.sourcePatientKey)));
    }
    const identified: IdentifiedEvent = {
      eventId: ctx.deriveEventId('identified'),
      correlationId: event.correlationId,
      causationId: event.eventId,
      epid,
      tier: ingested.tier,
      identity: { method: epid ? 'deterministic-identifier' : 'none', score: null, personCreated: created },
      ingested,
    };
    ctx.emit({ topic: stageTopic('identified', ingested.tier), key: epid || ingested.correlationId, value: identified, eventId: identified.eventId, tier: ingested.tier, eventType: 'IdentifiedEvent' });
    if (created) {
      const change: IdentityEvent = {
        eventId: ctx.deriveEventId('person-created'),
        correlationId: event.correlationId,
        type: 'PERSON_CREATED',
        epid,
        otherEpid: null,
        recordKey: ingested.sourcePatientKey,
        method: 'deterministic-identifier',
        score: null,
        at: Date.now(),
      };
      ctx.emit({ topic: EVENT_TOPICS.identity, key: epid, value: change, eventId: change.eventId, eventType: 'IdentityEvent' });
    }
  }
}
