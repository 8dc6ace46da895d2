/**
 * Schema of the PostgreSQL candidate store. Idempotent (IF NOT EXISTS) so a
 * service may apply it at start; a TypeORM migration in the identity service
 * embeds this text unchanged.
 */
export const EMPI_PG_MIGRATION = `
CREATE TABLE IF NOT EXISTS empi_record (
  record_id     text PRIMARY KEY,
  person_id     text NOT NULL,
  source_system text,
  data          jsonb NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS empi_record_person_idx ON empi_record (person_id);
CREATE TABLE IF NOT EXISTS empi_blocking_key (
  key       text NOT NULL,
  record_id text NOT NULL REFERENCES empi_record (record_id) ON DELETE CASCADE,
  PRIMARY KEY (record_id, key)
);
CREATE INDEX IF NOT EXISTS empi_blocking_key_key_idx ON empi_blocking_key (key, record_id);
`;

/**
 * Second step (idempotent): no per-row foreign-key check on blocking keys; versioned name-frequency snapshots of the index. Each row holds the
 * raw counts; the matcher blends them with the US Census seed (frequencySnapshotFromCounts).
 * A new row per refresh (operator command): rows are never updated, so no hot row.
 */
export const EMPI_PG_MIGRATION_V2 = `
-- Keys are written for a whole chunk at once; a per-row foreign-key check on each of them (about
-- fifteen per record) costs more than the insert itself, and records are never deleted.
ALTER TABLE empi_blocking_key DROP CONSTRAINT IF EXISTS empi_blocking_key_record_id_fkey;
CREATE TABLE IF NOT EXISTS empi_frequency_snapshot (
  version    text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  total      integer NOT NULL,
  given      jsonb NOT NULL,
  family     jsonb NOT NULL
);
`;
