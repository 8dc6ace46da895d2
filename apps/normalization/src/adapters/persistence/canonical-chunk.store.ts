import { hash } from 'node:crypto';
import { UnitOfWork, perUnitOfWork } from '@clinmesh/event-runtime';
import type { CanonicalEvent, UnmappedCode } from '@clinmesh/schemas';
import { CanonicalStorePort, PreviousPublication, PublishedRecord } from '../../domain/canonical-store.port';

interface RecordRow { id: string; type: string; epid: string; eventId: string; version: string; change: string; correction: boolean; events: Set<string> }
interface ResourceRow { id: string; type: string; epid: string; eventId: string; json: string; hash: string; firstHash: string; changes: number }
interface CodeRow { source: string; code: UnmappedCode; eventId: string; version: string }

/**
 * Normalization's store for one consumer transaction (a chunk of events), written set-based: the
 * chunk's previous publications are read in one query (`preload`, the consumer's prepare step), the
 * handlers' writes are buffered, and `flush` (the consumer's complete step) writes them as five
 * multi-row statements whatever the chunk's size — instead of five or more statements per event.
 *
 * The result equals handling the events one by one in order: the last event wins a row it shares
 * with an earlier one, a record's revision count grows once per distinct event, and a record's
 * unmapped codes are those of the last event that published it (earlier ones are resolved).
 */
export class CanonicalChunkStore implements CanonicalStorePort {
  /** The store of this transaction (one per unit of work). */
  static readonly of = perUnitOfWork((uow) => new CanonicalChunkStore(uow));

  private readonly previous = new Map<string, PreviousPublication | null>();
  private readonly publications = new Map<string, { lastEventId: string; supersedes: string | null; fingerprint: string; version: string }>();
  private readonly records = new Map<string, RecordRow>();
  private readonly resources = new Map<string, ResourceRow>();
  /** Record id → the unmapped codes of the last event that published the record. */
  private readonly codesByRecord = new Map<string, CodeRow[]>();
  private resolvedVersion = '';

  private constructor(private readonly uow: UnitOfWork) {}

  /** One query for every input event of the chunk. */
  async preload(sourceEventIds: string[]): Promise<void> {
    const wanted = sourceEventIds.filter((id) => !this.previous.has(id));
    if (!wanted.length) return;
    const rows = await this.uow.query<{ source_event_id: string; last_event_id: string; supersedes_event_id: string | null }>(
      'SELECT source_event_id, last_event_id, supersedes_event_id FROM nz_source_event WHERE source_event_id = ANY($1::text[])', [wanted]);
    for (const id of wanted) this.previous.set(id, null);
    for (const r of rows) this.previous.set(r.source_event_id, { lastEventId: r.last_event_id, supersedesEventId: r.supersedes_event_id });
  }

  async previousPublication(sourceEventId: string): Promise<PreviousPublication | null> {
    const buffered = this.publications.get(sourceEventId);
    if (buffered) return { lastEventId: buffered.lastEventId, supersedesEventId: buffered.supersedes };
    if (!this.previous.has(sourceEventId)) await this.preload([sourceEventId]);
    return this.previous.get(sourceEventId) ?? null;
  }

  async rememberPublication(sourceEventId: string, canonical: CanonicalEvent, fingerprint: string): Promise<void> {
    this.publications.set(sourceEventId, {
      lastEventId: canonical.eventId, supersedes: canonical.supersedesEventId ?? null, fingerprint, version: canonical.provenance.mappingVersion,
    });
  }

  async storeRecords(canonical: CanonicalEvent, records: PublishedRecord[]): Promise<void> {
    for (const r of records) {
      const earlier = this.records.get(r.id);
      // The index row keeps the epid and type it was created with (an update does not change them).
      this.records.set(r.id, {
        id: r.id, type: earlier?.type ?? r.type, epid: earlier?.epid ?? canonical.epid, eventId: canonical.eventId, version: canonical.provenance.mappingVersion, change: r.changeType,
        correction: r.correction || (earlier?.correction ?? false), events: (earlier?.events ?? new Set<string>()).add(canonical.eventId),
      });
      if (r.record !== null) {
        const json = JSON.stringify(r.record);
        const contentHash = hash('sha256', json, 'hex').slice(0, 32);
        const earlier = this.resources.get(r.id);
        // Content changes within the chunk each count as a version, as they would one by one.
        this.resources.set(r.id, {
          id: r.id, type: r.type, epid: canonical.epid, eventId: canonical.eventId, json, hash: contentHash,
          firstHash: earlier?.firstHash ?? contentHash, changes: (earlier?.changes ?? 0) + (earlier && earlier.hash !== contentHash ? 1 : 0),
        });
      }
    }
  }

  async recordUnmapped(canonical: CanonicalEvent, recordIds: string[]): Promise<void> {
    this.resolvedVersion = canonical.provenance.mappingVersion;
    for (const id of recordIds) this.codesByRecord.set(id, []);
    for (const code of canonical.unmappedCodes ?? []) {
      const list = this.codesByRecord.get(code.recordId) ?? [];
      list.push({ source: canonical.source.system, code, eventId: canonical.eventId, version: canonical.provenance.mappingVersion });
      this.codesByRecord.set(code.recordId, list);
    }
  }

  /**
   * Writes the chunk: five multi-row statements at most, all deferred (`uow.deferWrite`) — publications,
   * records, resources and the unmapped codes' resolve and (re)open: nothing reads them back in this
   * transaction, so they ride on the consumer's closing statement instead of a round trip each.
   */
  async flush(): Promise<void> {
    CanonicalChunkStore.of.forget(this.uow);
    this.deferPublications();
    this.deferRecords();
    this.deferResources();
    this.deferUnmapped();
  }

  private deferPublications(): void {
    const rows = [...this.publications.entries()];
    if (!rows.length) return;
    this.uow.deferWrite(
      `INSERT INTO nz_source_event (source_event_id, last_event_id, supersedes_event_id, fingerprint, mapping_version, updated_at)
       SELECT s, l, p, f, v, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(s, l, p, f, v)
       ON CONFLICT (source_event_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, supersedes_event_id = EXCLUDED.supersedes_event_id,
         fingerprint = EXCLUDED.fingerprint, mapping_version = EXCLUDED.mapping_version, updated_at = now()`,
      [rows.map(([s]) => s), rows.map(([, p]) => p.lastEventId), rows.map(([, p]) => p.supersedes), rows.map(([, p]) => p.fingerprint), rows.map(([, p]) => p.version)],
    );
  }

  private deferRecords(): void {
    const rows = [...this.records.values()];
    if (!rows.length) return;
    // revisions: one per distinct event that published the record, as one by one: each event counts unless it is the
    // record's last event already — which, events of a chunk being distinct, only the chunk's first one can be.
    this.uow.deferWrite(
      `INSERT INTO nz_canonical_record (canonical_id, epid, resource_type, last_event_id, mapping_version, updated_at, change_type, correction, revisions)
       SELECT r.id, r.epid, r.type, r.event, r.version, now(), r.change, r.correction, r.n
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::int[])
           AS r(id, epid, type, event, version, change, correction, n)
       ON CONFLICT (canonical_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, mapping_version = EXCLUDED.mapping_version, updated_at = now(),
         change_type = EXCLUDED.change_type, correction = nz_canonical_record.correction OR EXCLUDED.correction,
         revisions = nz_canonical_record.revisions + EXCLUDED.revisions
           - CASE WHEN nz_canonical_record.last_event_id = $9::jsonb ->> EXCLUDED.canonical_id THEN 1 ELSE 0 END`,
      [rows.map((r) => r.id), rows.map((r) => r.epid), rows.map((r) => r.type), rows.map((r) => r.eventId), rows.map((r) => r.version), rows.map((r) => r.change),
        rows.map((r) => r.correction), rows.map((r) => r.events.size), byId(rows, (r) => r.events.values().next().value as string)],
    );
  }

  private deferResources(): void {
    const rows = [...this.resources.values()];
    if (!rows.length) return;
    // The rows travel as one JSON document with each record's JSON spliced in as it is: as a text[] element the
    // driver escaped every quote of every record (its largest cost in this service's profile), and the server parsed
    // the array literal before parsing each element as jsonb.
    const document = `[${rows.map((r) => `{"id":${JSON.stringify(r.id)},"type":${JSON.stringify(r.type)},"epid":${JSON.stringify(r.epid)},`
      + `"hash":"${r.hash}","event":${JSON.stringify(r.eventId)},"changes":${r.changes},"record":${r.json}}`).join(',')}]`;
    this.uow.deferWrite(
      `INSERT INTO nz_canonical_resource (canonical_id, resource_type, epid, record, content_hash, version, last_event_id, updated_at)
       SELECT r.id, r.type, r.epid, r.record, r.hash, 1 + r.changes, r.event, now()
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, type text, epid text, record jsonb, hash text, event text, changes int)
       ON CONFLICT (canonical_id) DO UPDATE SET resource_type = EXCLUDED.resource_type, epid = EXCLUDED.epid, record = EXCLUDED.record,
         content_hash = EXCLUDED.content_hash, last_event_id = EXCLUDED.last_event_id, updated_at = now(),
         version = nz_canonical_resource.version + EXCLUDED.version - 1
           + CASE WHEN nz_canonical_resource.content_hash = $2::jsonb ->> EXCLUDED.canonical_id THEN 0 ELSE 1 END`,
      [document, byId(rows, (r) => r.firstHash)],
    );
  }

  /**
   * Codes are kept per record: the chunk's records have their open codes resolved, and the last publication's
   * codes are (re)opened. Both ride on the closing statement (they were two round trips of every transaction),
   * so they must touch disjoint rows: the resolve leaves out the codes the upsert (re)opens, which end as
   * they would have after a resolve and a re-open (open, seen now, this event's reason and version).
   */
  private deferUnmapped(): void {
    const recordIds = [...this.codesByRecord.keys()];
    if (!recordIds.length) return;
    // One row per conflict key (the last occurrence wins, as it would one by one).
    const codes = [...new Map([...this.codesByRecord.values()].flat()
      .map((c) => [[c.source, c.code.system ?? '', c.code.code, c.code.element, c.code.recordId].join('\u0000'), c])).values()];
    const keys = [codes.map((c) => c.source), codes.map((c) => c.code.system ?? ''), codes.map((c) => c.code.code), codes.map((c) => c.code.element), codes.map((c) => c.code.recordId)];
    this.uow.deferWrite(
      `UPDATE nz_unmapped_code u SET resolved_at = now(), resolved_by_version = $2
        WHERE u.record_id = ANY($1::text[]) AND u.resolved_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS k(s, cs, c, e, r)
                           WHERE (k.s, k.cs, k.c, k.e, k.r) = (u.source_system, u.code_system, u.code, u.element, u.record_id))`,
      [recordIds, this.resolvedVersion, ...keys],
    );
    if (!codes.length) return;
    this.uow.deferWrite(
      `INSERT INTO nz_unmapped_code (source_system, code_system, code, element, record_id, record_type, display, reason, source_field, last_event_id, mapping_version, first_seen, last_seen, resolved_at, resolved_by_version)
       SELECT s, cs, c, e, r, rt, d, re, sf, ev, v, now(), now(), NULL, NULL
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
           AS t(s, cs, c, e, r, rt, d, re, sf, ev, v)
       ON CONFLICT (source_system, code_system, code, element, record_id) DO UPDATE SET last_seen = now(), resolved_at = NULL, resolved_by_version = NULL,
         last_event_id = EXCLUDED.last_event_id, mapping_version = EXCLUDED.mapping_version, reason = EXCLUDED.reason, display = EXCLUDED.display`,
      [...keys, codes.map((c) => c.code.recordType), codes.map((c) => c.code.display), codes.map((c) => c.code.reason), codes.map((c) => c.code.sourceField),
        codes.map((c) => c.eventId), codes.map((c) => c.version)],
    );
  }
}

/**
 * A per-row value the upsert's conflict branch compares with the stored row, as one JSON object by
 * canonical id: `$n::jsonb ->> id` is a keyed lookup, where a scan of the unnested arrays per
 * conflicting row was quadratic in the chunk (3.3 ms a statement in the pipeline bench).
 */
function byId<R extends { id: string }>(rows: R[], value: (r: R) => string | null | undefined): string {
  return JSON.stringify(Object.fromEntries(rows.map((r) => [r.id, value(r) ?? null])));
}
