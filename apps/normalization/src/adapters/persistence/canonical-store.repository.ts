import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { UnitOfWork } from '@clinmesh/event-runtime';
import type { CanonicalEvent } from '@clinmesh/schemas';
import {
  CanonicalRecordReader, CanonicalStorePort, PreviousPublication, PublishedRecord, StoredCanonicalRecord,
} from '../../domain/canonical-store.port';

/** Normalization's tables, written through the consumer's unit of work (same transaction as inbox, offsets and outbox). */
export class CanonicalStoreRepository implements CanonicalStorePort {
  constructor(private readonly uow: UnitOfWork) {}

  async previousPublication(sourceEventId: string): Promise<PreviousPublication | null> {
    const [row] = await this.uow.query<{ last_event_id: string; supersedes_event_id: string | null }>(
      'SELECT last_event_id, supersedes_event_id FROM nz_source_event WHERE source_event_id = $1', [sourceEventId]);
    return row ? { lastEventId: row.last_event_id, supersedesEventId: row.supersedes_event_id } : null;
  }

  async rememberPublication(sourceEventId: string, canonical: CanonicalEvent, fingerprint: string): Promise<void> {
    await this.uow.execute(
      `INSERT INTO nz_source_event (source_event_id, last_event_id, supersedes_event_id, fingerprint, mapping_version, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (source_event_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, supersedes_event_id = EXCLUDED.supersedes_event_id,
         fingerprint = EXCLUDED.fingerprint, mapping_version = EXCLUDED.mapping_version, updated_at = now()`,
      [sourceEventId, canonical.eventId, canonical.supersedesEventId ?? null, fingerprint, canonical.provenance.mappingVersion],
    );
  }

  /** Two multi-row upserts per event (index and typed records), whatever the number of records. */
  async storeRecords(canonical: CanonicalEvent, records: PublishedRecord[]): Promise<void> {
    // One row per canonical id (a message may state the same fact twice): the last occurrence wins, as it would sequentially.
    const rows = [...new Map(records.map((r) => [r.id, r])).values()];
    if (!rows.length) return;
    await this.uow.execute(
      `INSERT INTO nz_canonical_record (canonical_id, epid, resource_type, last_event_id, mapping_version, updated_at, change_type, correction, revisions)
       SELECT r.id, $1, r.type, $2, $3, now(), r.change, r.correction, 1
         FROM unnest($4::text[], $5::text[], $6::text[], $7::boolean[]) AS r(id, type, change, correction)
       ON CONFLICT (canonical_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, mapping_version = EXCLUDED.mapping_version, updated_at = now(),
         change_type = EXCLUDED.change_type, correction = nz_canonical_record.correction OR EXCLUDED.correction,
         revisions = nz_canonical_record.revisions + CASE WHEN nz_canonical_record.last_event_id = EXCLUDED.last_event_id THEN 0 ELSE 1 END`,
      [canonical.epid, canonical.eventId, canonical.provenance.mappingVersion, rows.map((r) => r.id), rows.map((r) => r.type), rows.map((r) => r.changeType), rows.map((r) => r.correction)],
    );
    const typed = rows.filter((r) => r.record !== null).map((r) => {
      const json = JSON.stringify(r.record);
      return { id: r.id, type: r.type, json, hash: createHash('sha256').update(json).digest('hex').slice(0, 32) };
    });
    if (!typed.length) return;
    await this.uow.execute(
      `INSERT INTO nz_canonical_resource (canonical_id, resource_type, epid, record, content_hash, version, last_event_id, updated_at)
       SELECT r.id, r.type, $1, r.record::jsonb, r.hash, 1, $2, now()
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS r(id, type, record, hash)
       ON CONFLICT (canonical_id) DO UPDATE SET resource_type = EXCLUDED.resource_type, epid = EXCLUDED.epid, record = EXCLUDED.record,
         content_hash = EXCLUDED.content_hash, last_event_id = EXCLUDED.last_event_id, updated_at = now(),
         version = nz_canonical_resource.version + CASE WHEN nz_canonical_resource.content_hash = EXCLUDED.content_hash THEN 0 ELSE 1 END`,
      [canonical.epid, canonical.eventId, typed.map((r) => r.id), typed.map((r) => r.type), typed.map((r) => r.json), typed.map((r) => r.hash)],
    );
  }

  /** Unmapped codes are kept per record: a re-mapping that resolves them marks them resolved, so the list shows what is still open. */
  async recordUnmapped(canonical: CanonicalEvent, recordIds: string[]): Promise<void> {
    if (recordIds.length) {
      await this.uow.execute(`UPDATE nz_unmapped_code SET resolved_at = now(), resolved_by_version = $2 WHERE record_id = ANY($1) AND resolved_at IS NULL`,
        [recordIds, canonical.provenance.mappingVersion]);
    }
    for (const u of canonical.unmappedCodes ?? []) {
      await this.uow.execute(
        `INSERT INTO nz_unmapped_code (source_system, code_system, code, element, record_id, record_type, display, reason, source_field, last_event_id, mapping_version, first_seen, last_seen, resolved_at, resolved_by_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), now(), NULL, NULL)
         ON CONFLICT (source_system, code_system, code, element, record_id) DO UPDATE SET last_seen = now(), resolved_at = NULL, resolved_by_version = NULL,
           last_event_id = EXCLUDED.last_event_id, mapping_version = EXCLUDED.mapping_version, reason = EXCLUDED.reason, display = EXCLUDED.display`,
        [canonical.source.system, u.system ?? '', u.code, u.element, u.recordId, u.recordType, u.display, u.reason, u.sourceField, canonical.eventId, canonical.provenance.mappingVersion],
      );
    }
  }
}

/** Reads of stored canonical records (outside event transactions), for the FHIR read API. */
export class CanonicalResourceRepository implements CanonicalRecordReader {
  constructor(private readonly db: DataSource) {}

  async find(id: string): Promise<StoredCanonicalRecord | null> {
    const [row] = await this.db.query(
      'SELECT canonical_id, resource_type, epid, record, version, last_event_id, updated_at FROM nz_canonical_resource WHERE canonical_id = $1', [id]);
    if (!row) return null;
    return {
      id: row.canonical_id, type: row.resource_type, epid: row.epid, record: row.record, version: Number(row.version),
      lastEventId: row.last_event_id, updatedAt: new Date(row.updated_at).toISOString(),
    };
  }
}
