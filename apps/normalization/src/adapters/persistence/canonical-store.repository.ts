import { DataSource } from 'typeorm';
import { CanonicalRecordReader, StoredCanonicalRecord } from '../../domain/canonical-store.port';

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
