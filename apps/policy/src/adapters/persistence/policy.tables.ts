import { MigrationInterface, QueryRunner } from 'typeorm';

/** Policy's tables: explained decisions, consents, the identity index, break-glass grants, policy versions, shadow diffs, disclosures. */
export class PolicyTables1764370000000 implements MigrationInterface {
  name = 'PolicyTables1764370000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS pl_decision');
    await q.query(`CREATE TABLE pl_decision (
      decision_id text PRIMARY KEY,
      canonical_event_id text NOT NULL,
      correlation_id text NOT NULL,
      epid text NOT NULL,
      audience text NOT NULL,
      effect text NOT NULL,
      obligations text[] NOT NULL,
      policy_version text NOT NULL,
      rule_ids text[] NOT NULL,
      routing_rule_ids text[] NOT NULL,
      consent_id text,
      consent_provision text,
      consent_decision text NOT NULL,
      labels text[] NOT NULL,
      withheld_labels text[] NOT NULL,
      purpose text NOT NULL,
      grant_id text,
      projection text NOT NULL,
      deidentified boolean NOT NULL,
      tier text NOT NULL,
      original_tier text NOT NULL,
      critical boolean NOT NULL,
      workflows text[] NOT NULL,
      routed_event_id text,
      resource_type text NOT NULL,
      reason text NOT NULL,
      explanation text NOT NULL,
      revoked_at timestamptz,
      revoked_reason text,
      decided_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('CREATE INDEX pl_decision_correlation ON pl_decision (correlation_id)');
    await q.query('CREATE INDEX pl_decision_patient ON pl_decision (epid, audience, decided_at)');
    await q.query('CREATE INDEX pl_decision_routed ON pl_decision (routed_event_id)');
    await q.query(`CREATE TABLE pl_identity_index (record_key text PRIMARY KEY, epid text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('CREATE INDEX pl_identity_index_epid ON pl_identity_index (epid)');
    await q.query(`CREATE TABLE pl_consent (
      id text PRIMARY KEY,
      version integer NOT NULL,
      status text NOT NULL,
      patient_keys text[] NOT NULL,
      patient_system text NOT NULL,
      epid text,
      resource jsonb NOT NULL,
      provision jsonb NOT NULL,
      recorded_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      applied_at timestamptz)`);
    await q.query('CREATE INDEX pl_consent_epid ON pl_consent (epid) WHERE status = \'active\'');
    await q.query('CREATE INDEX pl_consent_keys ON pl_consent USING gin (patient_keys)');
    await q.query(`CREATE TABLE pl_break_glass (
      id text PRIMARY KEY,
      epid text NOT NULL,
      audience text NOT NULL,
      actor text NOT NULL,
      reason text NOT NULL,
      granted_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'active',
      expired_at timestamptz)`);
    await q.query('CREATE INDEX pl_break_glass_due ON pl_break_glass (expires_at) WHERE status = \'active\'');
    await q.query('CREATE INDEX pl_break_glass_patient ON pl_break_glass (epid) WHERE status = \'active\'');
    await q.query(`CREATE TABLE pl_policy_version (
      version text PRIMARY KEY,
      document jsonb NOT NULL,
      status text NOT NULL,
      source text NOT NULL,
      loaded_at timestamptz NOT NULL DEFAULT now(),
      activated_at timestamptz)`);
    await q.query(`CREATE TABLE pl_shadow_diff (
      id bigserial PRIMARY KEY,
      candidate_version text NOT NULL,
      active_version text NOT NULL,
      canonical_event_id text NOT NULL,
      correlation_id text NOT NULL,
      audience text NOT NULL,
      active jsonb NOT NULL,
      candidate jsonb NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (candidate_version, canonical_event_id, audience))`);
    await q.query(`CREATE TABLE pl_delivery (
      event_id text PRIMARY KEY,
      source_event_id text NOT NULL,
      subscription_id text NOT NULL,
      status text NOT NULL,
      at timestamptz NOT NULL)`);
    await q.query('CREATE INDEX pl_delivery_source ON pl_delivery (source_event_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['pl_delivery', 'pl_shadow_diff', 'pl_policy_version', 'pl_break_glass', 'pl_consent', 'pl_identity_index', 'pl_decision']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}

/** Refused requests kept with their reason (kind, code, issues; never the body). */
export class PolicyRejections1764380000000 implements MigrationInterface {
  name = 'PolicyRejections1764380000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE pl_rejection (id bigserial PRIMARY KEY, kind text NOT NULL, code text NOT NULL, detail text NOT NULL, issues jsonb NOT NULL, actor text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS pl_rejection');
  }
}

/** Routed views held by delay rules until their release time (released by the durable timer, kept as the record of the hold). */
export class PolicyHeldViews1764390000000 implements MigrationInterface {
  name = 'PolicyHeldViews1764390000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE pl_held_view (
      routed_event_id text PRIMARY KEY, decision_id text NOT NULL, audience text NOT NULL, topic text NOT NULL, key text NULL, tier text NOT NULL,
      value jsonb NOT NULL, release_at timestamptz NOT NULL, released_at timestamptz NULL, held_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('CREATE INDEX pl_held_view_due ON pl_held_view (release_at) WHERE released_at IS NULL');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS pl_held_view');
  }
}
