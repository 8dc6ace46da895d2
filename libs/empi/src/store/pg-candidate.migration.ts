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

/**
 * Third step (idempotent): blocking keys as 64-bit hashes in `empi_key`, one B-tree (its primary key
 * `(key, record_id)`: the candidate search's index range scan), and each record's current key hashes on its
 * own row (`empi_record.keys`), so a re-saved record's stale keys are deleted through that one index
 * instead of a second index on `(record_id, key)`. The text-keyed `empi_blocking_key` (two B-trees on long
 * text keys, ~13 rows per record) is carried over and dropped. The hash is `advisoryKey` (first 8 bytes of
 * SHA-256, signed), the same value the advisory lock on the key takes; the SQL below computes it alike.
 * Two different keys sharing a hash (about one pair in 10^7 at a million distinct keys) only add a
 * candidate that is then scored like any other.
 */
export const EMPI_PG_MIGRATION_V3 = `
CREATE TABLE IF NOT EXISTS empi_key (
  key       bigint NOT NULL,
  record_id text NOT NULL,
  PRIMARY KEY (key, record_id)
);
ALTER TABLE empi_record ADD COLUMN IF NOT EXISTS keys bigint[];
DO $$
BEGIN
  IF to_regclass('empi_blocking_key') IS NOT NULL THEN
    INSERT INTO empi_key (key, record_id)
      SELECT ('x' || substr(encode(sha256(convert_to(key, 'UTF8')), 'hex'), 1, 16))::bit(64)::bigint, record_id FROM empi_blocking_key
      ON CONFLICT DO NOTHING;
    UPDATE empi_record r SET keys = k.keys
      FROM (SELECT record_id, array_agg(key ORDER BY key) AS keys FROM empi_key GROUP BY record_id) AS k
     WHERE k.record_id = r.record_id;
    DROP TABLE empi_blocking_key;
  END IF;
END $$;
`;

/** Every step, in order (idempotent as a whole): what a store applies at start. */
export const EMPI_PG_MIGRATIONS = [EMPI_PG_MIGRATION, EMPI_PG_MIGRATION_V2, EMPI_PG_MIGRATION_V3].join('\n');
