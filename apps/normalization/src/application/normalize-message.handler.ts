import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import { stageTopic } from '@clinmesh/topology';
import { TerminologyMaps, listRecords, mapToCanonical } from '@clinmesh/canonical';
import type { CanonicalEvent, IdentifiedEvent, UnmappedCode } from '@clinmesh/schemas';
import { contentFingerprint, toCanonicalEvent } from '../domain/canonical-envelope.mapper';

export interface NormalizeDependencies {
  terminology: () => TerminologyMaps;
  senderTimeZone: (system: string, facility: string) => string | null;
  unmappedObserved: (codes: UnmappedCode[], sourceSystem: string) => void;
}

/**
 * identified → canonical. Maps the message, publishes one canonical event
 * carrying every record, remembers per canonical id what was last published
 * and keeps unmapped codes for the terminology team — all in the runtime's
 * transaction. The event id derives from the input event and the mapped
 * content: a replay yields the same id (deduped downstream), a replay after a
 * map change yields a new event that names the one it supersedes.
 */
export class NormalizeMessageHandler {
  constructor(private readonly deps: NormalizeDependencies) {}

  async handle(event: InboundEvent<IdentifiedEvent>, ctx: EventContext): Promise<void> {
    const identified = event.value;
    const ing = identified.ingested;
    const mapping = mapToCanonical(
      { format: ing.format, raw: ing.raw, messageType: ing.messageType, messageId: ing.controlId, sourceSystem: ing.source.system, sourceFacility: ing.source.facility, epid: identified.epid },
      { terminology: this.deps.terminology(), senderTimeZone: this.deps.senderTimeZone(ing.source.system, ing.source.facility) },
    );
    const content = toCanonicalEvent(identified, mapping);
    const fingerprint = contentFingerprint(content);
    const eventId = ctx.deriveEventId(`canonical:${fingerprint}`);
    const [previous] = await ctx.uow.query<{ last_event_id: string; supersedes_event_id: string | null }>(
      'SELECT last_event_id, supersedes_event_id FROM nz_source_event WHERE source_event_id = $1', [identified.eventId]);
    const supersedesEventId = !previous ? null : previous.last_event_id === eventId ? previous.supersedes_event_id : previous.last_event_id;
    const canonical: CanonicalEvent = { eventId, ...content, supersedesEventId };
    await ctx.uow.execute(
      `INSERT INTO nz_source_event (source_event_id, last_event_id, supersedes_event_id, fingerprint, mapping_version, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (source_event_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, supersedes_event_id = EXCLUDED.supersedes_event_id,
         fingerprint = EXCLUDED.fingerprint, mapping_version = EXCLUDED.mapping_version, updated_at = now()`,
      [identified.eventId, eventId, supersedesEventId, fingerprint, mapping.mappingVersion],
    );
    await this.recordIndex(ctx, canonical, mapping.records);
    await this.recordUnmapped(ctx, canonical);
    this.deps.unmappedObserved(canonical.unmappedCodes ?? [], ing.source.system);
    ctx.emit({ topic: stageTopic('canonical', canonical.tier), key: canonical.epid || canonical.correlationId, value: canonical, eventId, eventType: 'CanonicalEvent' });
  }

  private async recordIndex(ctx: EventContext, canonical: CanonicalEvent, records: CanonicalEvent['records']): Promise<void> {
    const rows = [
      { type: canonical.resourceType, id: canonical.canonicalId, changeType: canonical.changeType, correction: false },
      ...listRecords(records!).filter((r) => r.id !== canonical.canonicalId),
    ];
    for (const r of rows) {
      await ctx.uow.execute(
        `INSERT INTO nz_canonical_record (canonical_id, epid, resource_type, last_event_id, mapping_version, updated_at, change_type, correction, revisions)
         VALUES ($1, $2, $3, $4, $5, now(), $6, $7, 1)
         ON CONFLICT (canonical_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, mapping_version = EXCLUDED.mapping_version, updated_at = now(),
           change_type = EXCLUDED.change_type, correction = nz_canonical_record.correction OR EXCLUDED.correction,
           revisions = nz_canonical_record.revisions + CASE WHEN nz_canonical_record.last_event_id = EXCLUDED.last_event_id THEN 0 ELSE 1 END`,
        [r.id, canonical.epid, r.type, canonical.eventId, canonical.provenance.mappingVersion, r.changeType, r.correction],
      );
    }
  }

  /** Unmapped codes are kept per record: a re-mapping that resolves them marks them resolved, so the list shows what is still open. */
  private async recordUnmapped(ctx: EventContext, canonical: CanonicalEvent): Promise<void> {
    const recordIds = listRecords(canonical.records!).map((r) => r.id);
    if (recordIds.length) {
      await ctx.uow.execute(`UPDATE nz_unmapped_code SET resolved_at = now(), resolved_by_version = $2 WHERE record_id = ANY($1) AND resolved_at IS NULL`,
        [recordIds, canonical.provenance.mappingVersion]);
    }
    for (const u of canonical.unmappedCodes ?? []) {
      await ctx.uow.execute(
        `INSERT INTO nz_unmapped_code (source_system, code_system, code, element, record_id, record_type, display, reason, source_field, last_event_id, mapping_version, first_seen, last_seen, resolved_at, resolved_by_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), now(), NULL, NULL)
         ON CONFLICT (source_system, code_system, code, element, record_id) DO UPDATE SET last_seen = now(), resolved_at = NULL, resolved_by_version = NULL,
           last_event_id = EXCLUDED.last_event_id, mapping_version = EXCLUDED.mapping_version, reason = EXCLUDED.reason, display = EXCLUDED.display`,
        [canonical.source.system, u.system ?? '', u.code, u.element, u.recordId, u.recordType, u.display, u.reason, u.sourceField, canonical.eventId, canonical.provenance.mappingVersion],
      );
    }
  }
}
