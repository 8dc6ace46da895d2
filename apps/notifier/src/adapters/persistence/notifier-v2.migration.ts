import { MigrationInterface, QueryRunner } from 'typeorm';
import { NotifierTables1732200005000 } from './notifier.tables';

/**
 * Notifier v2: subscriptions bound to an audience and purpose, breaker and
 * health state per subscription (shared by replicas), deliveries with a due
 * column claimed with FOR UPDATE SKIP LOCKED, every attempt kept, revoked
 * decisions. Replaces the v1 tables (development data only: v1 had no
 * audience binding to migrate them to).
 */
export class NotifierV2Tables1764380000000 implements MigrationInterface {
  name = 'NotifierV2Tables1764380000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS nf_delivery');
    await q.query('DROP TABLE IF EXISTS nf_subscription');
    await q.query(`CREATE TABLE nf_subscription (
      id text PRIMARY KEY, kind text NOT NULL DEFAULT 'webhook', name text NOT NULL, url text NOT NULL,
      audience text NOT NULL, purpose_of_use text NOT NULL, events text[] NOT NULL, filter jsonb NOT NULL, ordering text NOT NULL DEFAULT 'none',
      secret_sealed text NOT NULL, previous_secret_sealed text, previous_secret_until timestamptz,
      status text NOT NULL DEFAULT 'active', disabled_reason text, version int NOT NULL DEFAULT 1,
      breaker_state text NOT NULL DEFAULT 'closed', consecutive_failures int NOT NULL DEFAULT 0, breaker_open_until timestamptz,
      probe_lease_until timestamptz, failing_since timestamptz, last_success_at timestamptz,
      fhir jsonb, fhir_events bigint NOT NULL DEFAULT 0, last_notified_at timestamptz,
      created_by text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE nf_delivery (
      delivery_id text PRIMARY KEY, subscription_id text NOT NULL REFERENCES nf_subscription(id),
      seq bigserial NOT NULL, source_event_id text NOT NULL, correlation_id text NOT NULL, event_type text NOT NULL,
      tier text NOT NULL, tier_rank smallint NOT NULL, epid text, decision_id text, payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending', attempts int NOT NULL DEFAULT 0, attempt_base int NOT NULL DEFAULT 0, due_at timestamptz NOT NULL DEFAULT now(),
      lease_until timestamptz, last_status int, last_error text, end_reason text, probe boolean NOT NULL DEFAULT false,
      fhir_event_number bigint, focus text,
      received_at timestamptz, created_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)`);
    await q.query(`CREATE INDEX nf_delivery_due ON nf_delivery (tier_rank, due_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX nf_delivery_inflight ON nf_delivery (lease_until) WHERE status = 'in_flight'`);
    await q.query(`CREATE INDEX nf_delivery_patient_open ON nf_delivery (subscription_id, epid, seq) WHERE status IN ('pending', 'in_flight')`);
    await q.query('CREATE INDEX nf_delivery_subscription ON nf_delivery (subscription_id, created_at DESC)');
    await q.query('CREATE INDEX nf_delivery_correlation ON nf_delivery (correlation_id)');
    await q.query(`CREATE INDEX nf_delivery_decision ON nf_delivery (decision_id) WHERE decision_id IS NOT NULL`);
    await q.query('CREATE UNIQUE INDEX nf_delivery_fhir_event ON nf_delivery (subscription_id, fhir_event_number) WHERE fhir_event_number IS NOT NULL');
    await q.query(`CREATE TABLE nf_attempt (
      delivery_id text NOT NULL REFERENCES nf_delivery(delivery_id), attempt int NOT NULL, started_at timestamptz NOT NULL,
      status_code int, latency_ms int NOT NULL, error text, outcome text NOT NULL, address text, PRIMARY KEY (delivery_id, attempt))`);
    await q.query(`CREATE TABLE nf_revoked_decision (
      decision_id text PRIMARY KEY, epid text, audience text, reason text, revoked_at timestamptz NOT NULL, source_event_id text NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS nf_attempt');
    await q.query('DROP TABLE IF EXISTS nf_revoked_decision');
    await q.query('DROP TABLE IF EXISTS nf_delivery');
    await q.query('DROP TABLE IF EXISTS nf_subscription');
  }
}

/** Per-subscription claims (the in-flight cap walks one subscription's due deliveries). */
export class NotifierSubscriptionDueIndex1764390000000 implements MigrationInterface {
  name = 'NotifierSubscriptionDueIndex1764390000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS nf_delivery_subscription_due ON nf_delivery (subscription_id, tier_rank, due_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX IF NOT EXISTS nf_delivery_subscription_inflight ON nf_delivery (subscription_id) WHERE status = 'in_flight'`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS nf_delivery_subscription_due');
    await q.query('DROP INDEX IF EXISTS nf_delivery_subscription_inflight');
  }
}

/**
 * Drops the two global partial indexes no query uses since every claim is per subscription
 * (`nf_delivery_subscription_due`, `nf_delivery_subscription_inflight` above): each delivery
 * insert wrote an entry into `nf_delivery_due`, and each claim (pending → in flight, not a HOT
 * update) one into `nf_delivery_inflight`, for nothing.
 */
export class NotifierDropUnusedIndexes1764400000000 implements MigrationInterface {
  name = 'NotifierDropUnusedIndexes1764400000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS nf_delivery_due');
    await q.query('DROP INDEX IF EXISTS nf_delivery_inflight');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS nf_delivery_due ON nf_delivery (tier_rank, due_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX IF NOT EXISTS nf_delivery_inflight ON nf_delivery (lease_until) WHERE status = 'in_flight'`);
  }
}

/** The notifier's migrations, in order: the service and the integration tests apply the same list. */
export const NOTIFIER_MIGRATIONS = [NotifierTables1732200005000, NotifierV2Tables1764380000000, NotifierSubscriptionDueIndex1764390000000, NotifierDropUnusedIndexes1764400000000];
