import { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYTICS_TABLES, AnalyticsTable } from '../../domain/analytics-rows';

/** The role analysts are granted: read-only on the `analytics` schema, nothing else in this database. */
export const ANALYST_ROLE = 'clinmesh_analytics_reader';

/** Vital signs (LOINC) the latest_vitals view reports: the FHIR vital-signs profile codes. */
export const VITAL_SIGN_LOINC = ['8867-4', '8480-6', '8462-4', '85354-9', '8310-5', '9279-1', '2708-6', '59408-5', '29463-7', '8302-2', '39156-5', '8287-5', '9843-4'];

/** v3 ObservationInterpretation codes of a critical result. */
export const CRITICAL_INTERPRETATIONS = ['AA', 'HH', 'LL'];

const TYPES: Readonly<Record<AnalyticsTable, string>> = {
  patients: 'family_name text, given_names text, birth_date text, gender text, deceased boolean, deceased_at timestamptz, identifiers text[] NOT NULL',
  encounters: 'patient_id text, status text, class_code text, type_code text, type_text text, start_at timestamptz, end_at timestamptz, location text, hospital_service text',
  observations: `patient_id text, report_id text, order_id text, status text, loinc_code text, code_system text, code text, code_display text, value_type text,
    value_num double precision, value_comparator text, unit text, ucum_unit text, value_text text, value_code text, value_code_system text, reference_range text,
    interpretation text[] NOT NULL, effective_at timestamptz, effective_original text, issued_at timestamptz, sub_id text`,
  diagnostic_reports: 'patient_id text, order_id text, status text, code_system text, code text, code_display text, effective_at timestamptz, issued_at timestamptz, result_ids text[] NOT NULL',
  orders: `patient_id text, category text, status text, intent text, order_control text, code_system text, code text, code_display text, priority text,
    authored_at timestamptz, occurrence_at timestamptz, requester text`,
  appointments: 'patient_id text, status text, service_type text, appointment_type text, reason text, start_at timestamptz, end_at timestamptz, duration_minutes double precision, participants text[] NOT NULL',
  medications: `patient_id text, kind text NOT NULL, status text, code_system text, code text, code_display text, dose_value double precision, dose_unit text, route text,
    frequency text, at timestamptz, order_id text`,
  immunizations: `patient_id text, status text, code_system text, code text, code_display text, occurrence_at timestamptz, dose_value double precision, dose_unit text,
    lot_number text, manufacturer text, route text, site text`,
};

/**
 * The analytics schema: one table per record family (upserted by canonical id), the history of
 * replaced versions, EPID merges, SQL-on-FHIR-style views, and the read-only analyst role.
 */
export class AnalyticsSinkTables1795909521857 implements MigrationInterface {
  name = 'AnalyticsSinkTables1795909521857';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE SCHEMA analytics');
    for (const t of ANALYTICS_TABLES) {
      await q.query(`CREATE TABLE analytics.${t} (canonical_id text PRIMARY KEY, epid text NOT NULL, source_epid text NOT NULL, event_id text NOT NULL, tier text NOT NULL,
        change_type text NOT NULL, correction boolean NOT NULL, recorded_at timestamptz NOT NULL, source_system text NOT NULL, version int NOT NULL, record jsonb NOT NULL,
        ${TYPES[t]})`);
      await q.query(`CREATE INDEX ${t}_epid ON analytics.${t} (epid)`);
      await q.query(`CREATE INDEX ${t}_source_epid ON analytics.${t} (source_epid)`);
    }
    await q.query('CREATE INDEX observations_loinc ON analytics.observations (loinc_code, effective_at DESC)');
    await q.query(`CREATE TABLE analytics.record_history (table_name text NOT NULL, canonical_id text NOT NULL, version int NOT NULL, event_id text NOT NULL,
      recorded_at timestamptz NOT NULL, superseded_by_event_id text NOT NULL, row jsonb NOT NULL, PRIMARY KEY (table_name, canonical_id, version))`);
    await q.query('CREATE TABLE analytics.epid_merges (merged_epid text PRIMARY KEY, surviving_epid text NOT NULL, event_id text NOT NULL, merged_at timestamptz NOT NULL)');

    // In the spirit of SQL-on-FHIR ViewDefinitions: flat, named, documented projections.
    await q.query(`CREATE VIEW analytics.latest_vitals AS
      SELECT DISTINCT ON (epid, loinc_code) epid, loinc_code, code_display, value_num, value_comparator, COALESCE(ucum_unit, unit) AS unit, effective_at, canonical_id
      FROM analytics.observations
      WHERE loinc_code IN (${VITAL_SIGN_LOINC.map((c) => `'${c}'`).join(', ')}) AND value_num IS NOT NULL AND status IS DISTINCT FROM 'entered-in-error'
      ORDER BY epid, loinc_code, effective_at DESC NULLS LAST, recorded_at DESC`);
    await q.query(`CREATE VIEW analytics.critical_results_24h AS
      SELECT epid, canonical_id, report_id, loinc_code, code, code_display, value_num, COALESCE(ucum_unit, unit) AS unit, value_text, interpretation,
        COALESCE(effective_at, issued_at, recorded_at) AS result_at
      FROM analytics.observations
      WHERE interpretation && ARRAY[${CRITICAL_INTERPRETATIONS.map((c) => `'${c}'`).join(', ')}]::text[]
        AND COALESCE(effective_at, issued_at, recorded_at) >= now() - interval '24 hours'
        AND status IS DISTINCT FROM 'entered-in-error'`);
    await q.query(`CREATE VIEW analytics.patient_summary AS
      SELECT p.epid, p.family_name, p.given_names, p.birth_date, p.gender,
        (SELECT count(*) FROM analytics.encounters e WHERE e.epid = p.epid) AS encounters,
        (SELECT count(*) FROM analytics.observations o WHERE o.epid = p.epid) AS observations,
        (SELECT max(o.effective_at) FROM analytics.observations o WHERE o.epid = p.epid) AS last_result_at
      FROM (SELECT DISTINCT ON (epid) * FROM analytics.patients ORDER BY epid, recorded_at DESC) p`);

    // Access control: analysts get SELECT on the analytics schema only (not the runtime tables,
    // not writes); nobody else may connect. Creating the role needs CREATEROLE: where the
    // service's user lacks it, the platform team creates it (see README).
    await q.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ANALYST_ROLE}') THEN CREATE ROLE ${ANALYST_ROLE} NOLOGIN; END IF;
      EXCEPTION WHEN duplicate_object THEN NULL; WHEN insufficient_privilege THEN RAISE NOTICE 'cannot create role ${ANALYST_ROLE}: create it as the platform team';
      END $$`);
    await q.query(`DO $$ BEGIN
        EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
        REVOKE ALL ON SCHEMA public FROM PUBLIC;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ANALYST_ROLE}') THEN
          EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${ANALYST_ROLE}', current_database());
          GRANT USAGE ON SCHEMA analytics TO ${ANALYST_ROLE};
          GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO ${ANALYST_ROLE};
          ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO ${ANALYST_ROLE};
        END IF;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP SCHEMA IF EXISTS analytics CASCADE');
  }
}
