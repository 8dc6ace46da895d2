import { Pool, PoolClient } from 'pg';
import { SchemaReference } from './avro-schema.parser';
import { CompatibilityLevel } from './avro-compatibility.checker';

/** Registry modes (Confluent): IMPORT lets a migration choose ids and versions. */
export type RegistryMode = 'READWRITE' | 'READONLY' | 'IMPORT';

/** A registered schema, immutable once it has an id. */
export interface StoredSchema {
  readonly id: number;
  readonly schemaType: 'AVRO';
  readonly schema: string;
  readonly references: readonly SchemaReference[];
  readonly fingerprint: string;
}

/** One version of a subject. */
export interface SubjectVersion {
  readonly subject: string;
  readonly version: number;
  readonly schemaId: number;
  readonly deleted: boolean;
}

type Queryable = Pick<Pool, 'query'> | PoolClient;

/**
 * Ordered, append-only migrations. Each runs once, recorded in
 * `schema_registry_migrations`; statements are idempotent anyway so a
 * half-applied database (crash between DDL and the record) recovers.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'initial schema registry tables',
    sql: `
      CREATE TABLE IF NOT EXISTS schema_registry_schemas (
        id integer PRIMARY KEY,
        schema_type text NOT NULL DEFAULT 'AVRO',
        schema_text text NOT NULL,
        references_json jsonb NOT NULL DEFAULT '[]'::jsonb,
        fingerprint text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      -- Not unique: IMPORT mode may legitimately bring the same schema under
      -- two ids from another registry. Normal registration reuses the lowest.
      CREATE INDEX IF NOT EXISTS schema_registry_schemas_fingerprint_idx ON schema_registry_schemas (fingerprint);
      CREATE TABLE IF NOT EXISTS schema_registry_subject_versions (
        subject text NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        schema_id integer NOT NULL REFERENCES schema_registry_schemas (id),
        deleted boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject, version)
      );
      CREATE INDEX IF NOT EXISTS schema_registry_subject_versions_schema_idx ON schema_registry_subject_versions (schema_id);
      CREATE TABLE IF NOT EXISTS schema_registry_config (
        subject text,
        compatibility text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX IF NOT EXISTS schema_registry_config_subject_key ON schema_registry_config ((coalesce(subject, '')));
      CREATE TABLE IF NOT EXISTS schema_registry_mode (
        subject text,
        mode text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX IF NOT EXISTS schema_registry_mode_subject_key ON schema_registry_mode ((coalesce(subject, '')));
    `,
  },
];

// Advisory lock keys (arbitrary constants, namespaced by the first key).
const LOCK_NAMESPACE = 0x53524547; // "SREG"
const MIGRATION_LOCK = 1;
const WRITE_LOCK = 2;

const CACHE_LIMIT = 2048;

/**
 * PostgreSQL persistence of the registry. All writes go through
 * {@link withWriteLock}: one transaction holding a transaction-level advisory
 * lock, so id/version allocation and "is this schema already registered?"
 * are race-free even with several registry processes on one database.
 * Registrations are rare; serializing them costs nothing that matters.
 */
export class SchemaStoreRepository {
  // id → schema never changes once written, so it can be cached without invalidation.
  private readonly byId = new Map<number, StoredSchema>();

  constructor(private readonly pool: Pool) {}

  /** Applies pending migrations; safe to call from several processes at once. */
  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_registry_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_registry_migrations')).rows.map((r) => r.version));
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_registry_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Runs `work` in a transaction that holds the registry-wide write lock. */
  async withWriteLock<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, WRITE_LOCK]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async getSchema(id: number, q: Queryable = this.pool): Promise<StoredSchema | undefined> {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const { rows } = await q.query('SELECT id, schema_type, schema_text, references_json, fingerprint FROM schema_registry_schemas WHERE id = $1', [id]);
    if (rows.length === 0) return undefined;
    return this.remember(toStoredSchema(rows[0]));
  }

  /** Ids holding exactly this schema (fingerprint), lowest first. */
  async findSchemaIds(fingerprint: string, q: Queryable = this.pool): Promise<number[]> {
    const { rows } = await q.query<{ id: number }>('SELECT id FROM schema_registry_schemas WHERE fingerprint = $1 ORDER BY id', [fingerprint]);
    return rows.map((r) => r.id);
  }

  async nextSchemaId(q: Queryable): Promise<number> {
    const { rows } = await q.query<{ next: number }>('SELECT coalesce(max(id), 0) + 1 AS next FROM schema_registry_schemas');
    return Number(rows[0].next);
  }

  async insertSchema(q: Queryable, schema: StoredSchema): Promise<void> {
    await q.query(
      'INSERT INTO schema_registry_schemas (id, schema_type, schema_text, references_json, fingerprint) VALUES ($1, $2, $3, $4::jsonb, $5)',
      [schema.id, schema.schemaType, schema.schema, JSON.stringify(schema.references), schema.fingerprint],
    );
    // Not cached here: the surrounding transaction may still roll back.
  }

  async listVersions(subject: string, includeDeleted: boolean, q: Queryable = this.pool): Promise<SubjectVersion[]> {
    const { rows } = await q.query(
      `SELECT subject, version, schema_id, deleted FROM schema_registry_subject_versions
       WHERE subject = $1 ${includeDeleted ? '' : 'AND NOT deleted'} ORDER BY version`,
      [subject],
    );
    return rows.map(toSubjectVersion);
  }

  async getVersion(subject: string, version: number, q: Queryable = this.pool): Promise<SubjectVersion | undefined> {
    const { rows } = await q.query('SELECT subject, version, schema_id, deleted FROM schema_registry_subject_versions WHERE subject = $1 AND version = $2', [subject, version]);
    return rows.length === 0 ? undefined : toSubjectVersion(rows[0]);
  }

  async listSubjects(includeDeleted: boolean, q: Queryable = this.pool): Promise<string[]> {
    const { rows } = await q.query<{ subject: string }>(
      `SELECT DISTINCT subject FROM schema_registry_subject_versions ${includeDeleted ? '' : 'WHERE NOT deleted'} ORDER BY subject`,
    );
    return rows.map((r) => r.subject);
  }

  async versionsOfSchema(id: number, includeDeleted: boolean, q: Queryable = this.pool): Promise<SubjectVersion[]> {
    const { rows } = await q.query(
      `SELECT subject, version, schema_id, deleted FROM schema_registry_subject_versions
       WHERE schema_id = $1 ${includeDeleted ? '' : 'AND NOT deleted'} ORDER BY subject, version`,
      [id],
    );
    return rows.map(toSubjectVersion);
  }

  /** Next version of a subject: one past the highest ever kept (soft-deleted included), as Confluent does. */
  async nextVersion(q: Queryable, subject: string): Promise<number> {
    const { rows } = await q.query<{ next: number }>('SELECT coalesce(max(version), 0) + 1 AS next FROM schema_registry_subject_versions WHERE subject = $1', [subject]);
    return Number(rows[0].next);
  }

  async upsertVersion(q: Queryable, subject: string, version: number, schemaId: number): Promise<void> {
    await q.query(
      `INSERT INTO schema_registry_subject_versions (subject, version, schema_id) VALUES ($1, $2, $3)
       ON CONFLICT (subject, version) DO UPDATE SET schema_id = EXCLUDED.schema_id, deleted = false`,
      [subject, version, schemaId],
    );
  }

  async softDeleteVersions(q: Queryable, subject: string, versions: readonly number[]): Promise<void> {
    await q.query('UPDATE schema_registry_subject_versions SET deleted = true WHERE subject = $1 AND version = ANY($2::int[])', [subject, versions]);
  }

  /** Removes version rows. Schema rows stay so an id is never reused for other content. */
  async hardDeleteVersions(q: Queryable, subject: string, versions: readonly number[]): Promise<void> {
    await q.query('DELETE FROM schema_registry_subject_versions WHERE subject = $1 AND version = ANY($2::int[])', [subject, versions]);
  }

  /** Ids of schemas (still attached to some subject version) whose references name subject/version. */
  async referencingSchemaIds(subject: string, version: number, q: Queryable = this.pool): Promise<number[]> {
    const { rows } = await q.query<{ id: number }>(
      `SELECT DISTINCT s.id FROM schema_registry_schemas s
       JOIN schema_registry_subject_versions v ON v.schema_id = s.id
       WHERE s.references_json @> $1::jsonb ORDER BY s.id`,
      [JSON.stringify([{ subject, version }])],
    );
    return rows.map((r) => r.id);
  }

  async getCompatibility(subject: string | null, q: Queryable = this.pool): Promise<CompatibilityLevel | undefined> {
    const { rows } = await q.query<{ compatibility: CompatibilityLevel }>(
      'SELECT compatibility FROM schema_registry_config WHERE coalesce(subject, \'\') = coalesce($1::text, \'\')',
      [subject],
    );
    return rows[0]?.compatibility;
  }

  async setCompatibility(subject: string | null, level: CompatibilityLevel, q: Queryable = this.pool): Promise<void> {
    await q.query(
      `INSERT INTO schema_registry_config (subject, compatibility) VALUES ($1, $2)
       ON CONFLICT ((coalesce(subject, ''))) DO UPDATE SET compatibility = EXCLUDED.compatibility, updated_at = now()`,
      [subject, level],
    );
  }

  async deleteCompatibility(subject: string | null, q: Queryable = this.pool): Promise<void> {
    await q.query('DELETE FROM schema_registry_config WHERE coalesce(subject, \'\') = coalesce($1::text, \'\')', [subject]);
  }

  async getMode(subject: string | null, q: Queryable = this.pool): Promise<RegistryMode | undefined> {
    const { rows } = await q.query<{ mode: RegistryMode }>('SELECT mode FROM schema_registry_mode WHERE coalesce(subject, \'\') = coalesce($1::text, \'\')', [subject]);
    return rows[0]?.mode;
  }

  async setMode(subject: string | null, mode: RegistryMode, q: Queryable = this.pool): Promise<void> {
    await q.query(
      `INSERT INTO schema_registry_mode (subject, mode) VALUES ($1, $2)
       ON CONFLICT ((coalesce(subject, ''))) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now()`,
      [subject, mode],
    );
  }

  async deleteMode(subject: string | null, q: Queryable = this.pool): Promise<void> {
    await q.query('DELETE FROM schema_registry_mode WHERE coalesce(subject, \'\') = coalesce($1::text, \'\')', [subject]);
  }

  /** True when any subject (or the given one) has a live version; used by the IMPORT-mode guard. */
  async hasLiveVersions(subject: string | null, q: Queryable = this.pool): Promise<boolean> {
    const { rows } = await q.query(
      `SELECT 1 FROM schema_registry_subject_versions WHERE NOT deleted ${subject === null ? '' : 'AND subject = $1'} LIMIT 1`,
      subject === null ? [] : [subject],
    );
    return rows.length > 0;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  private remember(schema: StoredSchema): StoredSchema {
    if (this.byId.size >= CACHE_LIMIT) this.byId.delete(this.byId.keys().next().value as number);
    this.byId.set(schema.id, schema);
    return schema;
  }
}

function toStoredSchema(row: Record<string, unknown>): StoredSchema {
  return {
    id: Number(row['id']),
    schemaType: 'AVRO',
    schema: String(row['schema_text']),
    references: (row['references_json'] as SchemaReference[]) ?? [],
    fingerprint: String(row['fingerprint']),
  };
}

function toSubjectVersion(row: Record<string, unknown>): SubjectVersion {
  return { subject: String(row['subject']), version: Number(row['version']), schemaId: Number(row['schema_id']), deleted: Boolean(row['deleted']) };
}
