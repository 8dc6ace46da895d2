import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import { stageTopic } from '@clinmesh/topology';
import { RECORD_LISTS, TerminologyMaps, listRecords, mapToCanonical } from '@clinmesh/canonical';
import type { CanonicalEvent, IdentifiedEvent, UnmappedCode } from '@clinmesh/schemas';
import { contentFingerprint, toCanonicalEvent } from '../domain/canonical-envelope.mapper';
import { CanonicalStorePort, PublishedRecord } from '../domain/canonical-store.port';

export interface NormalizeDependencies {
  terminology: () => TerminologyMaps;
  senderTimeZone: (system: string, facility: string) => string | null;
  unmappedObserved: (codes: UnmappedCode[], sourceSystem: string) => void;
}

/**
 * identified → canonical. Maps the message, publishes one canonical event
 * carrying every record, stores every published record (served by the FHIR
 * read API) and keeps unmapped codes for the terminology team — all through
 * the store port, in the runtime's transaction. The event id derives from the input event and the mapped
 * content: a replay yields the same id (deduped downstream), a replay after a
 * map change yields a new event that names the one it supersedes.
 */
export class NormalizeMessageHandler {
  constructor(private readonly deps: NormalizeDependencies, private readonly store: (ctx: EventContext) => CanonicalStorePort) {}

  async handle(event: InboundEvent<IdentifiedEvent>, ctx: EventContext): Promise<void> {
    const identified = event.value;
    const ing = identified.ingested;
    const mapping = mapToCanonical(
      { format: ing.format, raw: ing.raw, messageType: ing.messageType, messageId: ing.controlId, sourceSystem: ing.source.system, sourceFacility: ing.source.facility, epid: identified.epid },
      { terminology: this.deps.terminology(), senderTimeZone: this.deps.senderTimeZone(ing.source.system, ing.source.facility) },
    );
    const store = this.store(ctx);
    const content = toCanonicalEvent(identified, mapping);
    const fingerprint = contentFingerprint(content);
    const eventId = ctx.deriveEventId(`canonical:${fingerprint}`);
    const previous = await store.previousPublication(identified.eventId);
    const supersedesEventId = !previous ? null : previous.lastEventId === eventId ? previous.supersedesEventId : previous.lastEventId;
    const canonical: CanonicalEvent = { eventId, ...content, supersedesEventId };
    await store.rememberPublication(identified.eventId, canonical, fingerprint);
    await store.storeRecords(canonical, publishedRecords(canonical));
    await store.recordUnmapped(canonical, listRecords(canonical.records!).map((r) => r.id));
    this.deps.unmappedObserved(canonical.unmappedCodes ?? [], ing.source.system);
    ctx.emit({ topic: stageTopic('canonical', canonical.tier), key: canonical.epid || canonical.correlationId, value: canonical, eventId, eventType: 'CanonicalEvent' });
  }
}

/** Every typed record of the event, plus the envelope's placeholder when the message produced no record. */
function publishedRecords(canonical: CanonicalEvent): PublishedRecord[] {
  const out: PublishedRecord[] = [];
  for (const [type, list] of Object.entries(RECORD_LISTS)) {
    for (const r of canonical.records![list] as Array<{ id: string; changeType: string; correction: boolean }>) {
      out.push({ type, id: r.id, changeType: r.changeType, correction: r.correction, record: r });
    }
  }
  if (!out.some((r) => r.id === canonical.canonicalId)) {
    out.unshift({ type: canonical.resourceType, id: canonical.canonicalId, changeType: canonical.changeType, correction: false, record: null });
  }
  return out;
}
