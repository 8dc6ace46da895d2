import { MigrationInterface, QueryRunner } from 'typeorm';

export class CanonicalRecordTable1732200002000 implements MigrationInterface {
  name = 'CanonicalRecordTable1732200002000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE nz_canonical_record (canonical_id text PRIMARY KEY, epid text NOT NULL, resource_type text NOT NULL,
      last_event_id text NOT NULL, mapping_version text NOT NULL, updated_at timestamptz NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS nz_canonical_record');
  }
}

/** Typed records: per-record change type/correction/revisions, per-source-event fingerprints, unmapped codes. */
export class CanonicalModelTables1732200002100 implements MigrationInterface {
  name = 'CanonicalModelTables1732200002100';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE nz_canonical_record ADD COLUMN change_type text NOT NULL DEFAULT 'CREATE',
      ADD COLUMN correction boolean NOT NULL DEFAULT false, ADD COLUMN revisions integer NOT NULL DEFAULT 1`);
    await q.query(`CREATE TABLE nz_source_event (source_event_id text PRIMARY KEY, last_event_id text NOT NULL, supersedes_event_id text,
      fingerprint text NOT NULL, mapping_version text NOT NULL, updated_at timestamptz NOT NULL)`);
    await q.query(`CREATE TABLE nz_unmapped_code (
      source_system text NOT NULL, code_system text NOT NULL, code text NOT NULL, element text NOT NULL, record_id text NOT NULL,
      record_type text NOT NULL, display text, reason text NOT NULL, source_field text, last_event_id text NOT NULL, mapping_version text NOT NULL,
      first_seen timestamptz NOT NULL, last_seen timestamptz NOT NULL, resolved_at timestamptz, resolved_by_version text,
      PRIMARY KEY (source_system, code_system, code, element, record_id))`);
    await q.query('CREATE INDEX nz_unmapped_code_record ON nz_unmapped_code (record_id)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS nz_unmapped_code');
    await q.query('DROP TABLE IF EXISTS nz_source_event');
    await q.query('ALTER TABLE nz_canonical_record DROP COLUMN IF EXISTS change_type, DROP COLUMN IF EXISTS correction, DROP COLUMN IF EXISTS revisions');
  }
}

/** The canonical records normalization published, as typed JSON, for the FHIR read API (GET /fhir/{type}/{id}). */
export class CanonicalResourceTable1732200002200 implements MigrationInterface {
  name = 'CanonicalResourceTable1732200002200';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE nz_canonical_resource (canonical_id text PRIMARY KEY, resource_type text NOT NULL, epid text NOT NULL,
      record jsonb NOT NULL, content_hash text NOT NULL, version integer NOT NULL, last_event_id text NOT NULL, updated_at timestamptz NOT NULL)`);
    await q.query('CREATE INDEX nz_canonical_resource_epid ON nz_canonical_resource (epid)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS nz_canonical_resource');
  }
}
