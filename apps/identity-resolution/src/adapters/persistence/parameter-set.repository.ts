import { MigrationInterface, QueryRunner } from 'typeorm';
import { advisoryKey, type PersonRecord } from '@clinmesh/empi';
import type { UnitOfWork } from '@clinmesh/event-runtime';
import type { NewParameterSet, ParameterSetPort, ParameterSetRow, ParameterSetStatus } from '../../domain/parameter-set.model';
import { isoTime, isoTimeOrNull } from './row-times';

/** Parameter sets in identity-resolution's database, inside the caller's transaction. */
export class ParameterSetRepository implements ParameterSetPort {
  constructor(private readonly uow: UnitOfWork) {}

  async recordsForEstimate(sourceSystem: string | null, limit: number): Promise<PersonRecord[]> {
    const rows = await this.uow.query<{ data: PersonRecord }>(
      `SELECT data FROM empi_record WHERE ($1::text IS NULL OR source_system = $1::text) ORDER BY updated_at DESC, record_id LIMIT $2`,
      [sourceSystem, limit],
    );
    return rows.map((r) => r.data);
  }

  async insert(set: NewParameterSet): Promise<void> {
    await this.uow.execute(
      `INSERT INTO empi_parameter_set (version, source_system, comparisons, estimate, lambda, iterations, converged, candidate_pairs, random_pairs, records, created_by)
       VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, $8, $9, $10, $11)`,
      [set.version, set.sourceSystem, JSON.stringify(set.comparisons), JSON.stringify(set.estimate), set.lambda, set.iterations, set.converged,
        set.candidatePairs, set.randomPairs, set.records, set.createdBy],
    );
  }

  async get(version: string, lock = false): Promise<ParameterSetRow | undefined> {
    const rows = await this.uow.query<Record<string, unknown>>(`${SELECT} WHERE version = $1${lock ? ' FOR UPDATE' : ''}`, [version]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async list(limit: number): Promise<ParameterSetRow[]> {
    return (await this.uow.query<Record<string, unknown>>(`${SELECT} ORDER BY created_at DESC, version LIMIT $1`, [limit])).map(toRow);
  }

  async active(): Promise<ParameterSetRow[]> {
    return (await this.uow.query<Record<string, unknown>>(`${SELECT} WHERE status = 'active' ORDER BY source_system NULLS FIRST`)).map(toRow);
  }

  async lockSource(sourceSystem: string | null): Promise<void> {
    await this.uow.query('SELECT pg_advisory_xact_lock($1::bigint) AS locked', [String(advisoryKey(`parameters:${sourceSystem ?? '*'}`))]);
  }

  async activate(version: string, sourceSystem: string | null, actor: string): Promise<ParameterSetRow> {
    await this.uow.execute(
      `UPDATE empi_parameter_set SET status = 'retired', retired_at = now(), retired_by = $2, revision = revision + 1
        WHERE status = 'active' AND source_system IS NOT DISTINCT FROM $1::text`,
      [sourceSystem, actor],
    );
    return this.changeStatus(version, actor, `status = 'active', activated_at = now(), activated_by = $2`);
  }

  async retire(version: string, actor: string): Promise<ParameterSetRow> {
    return this.changeStatus(version, actor, `status = 'retired', retired_at = now(), retired_by = $2`);
  }

  /** One status change ($1 version, $2 actor in `assignments`), bumping the revision (the ETag), returning the row. */
  private async changeStatus(version: string, actor: string, assignments: string): Promise<ParameterSetRow> {
    const rows = await this.uow.query<Record<string, unknown>>(
      `WITH u AS (UPDATE empi_parameter_set SET ${assignments}, revision = revision + 1 WHERE version = $1 RETURNING *)
       ${SELECT.replace('FROM empi_parameter_set', 'FROM u')}`,
      [version, actor],
    );
    return toRow(rows[0]);
  }
}

const SELECT = `SELECT version, source_system, comparisons, estimate, lambda, iterations, converged, candidate_pairs, random_pairs, records, status, revision,
  created_at, created_by, activated_at, activated_by, retired_at, retired_by FROM empi_parameter_set`;

function toRow(r: Record<string, unknown>): ParameterSetRow {
  return {
    version: String(r.version), sourceSystem: (r.source_system as string | null) ?? null,
    comparisons: r.comparisons as ParameterSetRow['comparisons'], estimate: r.estimate as ParameterSetRow['estimate'],
    lambda: Number(r.lambda), iterations: Number(r.iterations), converged: Boolean(r.converged), candidatePairs: Number(r.candidate_pairs),
    randomPairs: Number(r.random_pairs), records: Number(r.records), status: r.status as ParameterSetStatus, revision: Number(r.revision),
    createdAt: isoTime(r.created_at), createdBy: String(r.created_by), activatedAt: isoTimeOrNull(r.activated_at), activatedBy: (r.activated_by as string | null) ?? null,
    retiredAt: isoTimeOrNull(r.retired_at), retiredBy: (r.retired_by as string | null) ?? null,
  };
}

/**
 * Versioned m/u parameter sets estimated by EM (`POST /v1/admin/identity/parameters/estimate`).
 * A row is immutable once written except its activation fields (a trigger refuses anything else);
 * at most one active set per source (null source = all sources), enforced by a unique partial index.
 */
export class EmpiParameterSets1732200001300 implements MigrationInterface {
  name = 'EmpiParameterSets1732200001300';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS empi_parameter_set (
      version text PRIMARY KEY, source_system text NULL, comparisons jsonb NOT NULL, estimate jsonb NOT NULL,
      lambda double precision NOT NULL, iterations integer NOT NULL, converged boolean NOT NULL,
      candidate_pairs integer NOT NULL, random_pairs integer NOT NULL, records integer NOT NULL,
      status text NOT NULL DEFAULT 'estimated' CHECK (status IN ('estimated', 'active', 'retired')), revision integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(), created_by text NOT NULL,
      activated_at timestamptz NULL, activated_by text NULL, retired_at timestamptz NULL, retired_by text NULL)`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS empi_parameter_set_one_active ON empi_parameter_set ((coalesce(source_system, ''))) WHERE status = 'active'`);
    await q.query(`CREATE OR REPLACE FUNCTION empi_parameter_set_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.version IS DISTINCT FROM OLD.version OR NEW.source_system IS DISTINCT FROM OLD.source_system OR NEW.comparisons IS DISTINCT FROM OLD.comparisons
           OR NEW.estimate IS DISTINCT FROM OLD.estimate OR NEW.lambda IS DISTINCT FROM OLD.lambda OR NEW.iterations IS DISTINCT FROM OLD.iterations
           OR NEW.converged IS DISTINCT FROM OLD.converged OR NEW.candidate_pairs IS DISTINCT FROM OLD.candidate_pairs OR NEW.random_pairs IS DISTINCT FROM OLD.random_pairs
           OR NEW.records IS DISTINCT FROM OLD.records OR NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.created_by IS DISTINCT FROM OLD.created_by THEN
          RAISE EXCEPTION 'empi_parameter_set % is immutable except its activation fields', OLD.version;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query('DROP TRIGGER IF EXISTS empi_parameter_set_immutable ON empi_parameter_set');
    await q.query('CREATE TRIGGER empi_parameter_set_immutable BEFORE UPDATE ON empi_parameter_set FOR EACH ROW EXECUTE FUNCTION empi_parameter_set_immutable()');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS empi_parameter_set');
    await q.query('DROP FUNCTION IF EXISTS empi_parameter_set_immutable()');
  }
}
