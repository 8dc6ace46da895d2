import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tables the event runtime keeps in every service's own database: the inbox
 * (processed event ids), the stored consumer offsets (the source of truth for
 * where a consumer resumes), the transactional outbox and the dead letters.
 * They are written in the same transaction as the service's own effects.
 */
export class EventRuntimeTables1732200000000 implements MigrationInterface {
  name = 'EventRuntimeTables1732200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE cm_inbox (
      consumer_group text NOT NULL,
      event_id text NOT NULL,
      topic text NOT NULL,
      partition int NOT NULL,
      "offset" bigint NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, event_id))`);
    await q.query(`CREATE INDEX cm_inbox_position ON cm_inbox (consumer_group, topic, partition, "offset")`);
    await q.query(`CREATE TABLE cm_consumer_offsets (
      consumer_group text NOT NULL,
      topic text NOT NULL,
      partition int NOT NULL,
      next_offset bigint NOT NULL,
      cluster_id text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, topic, partition))`);
    await q.query(`CREATE TABLE cm_outbox (
      id bigserial PRIMARY KEY,
      event_id text NOT NULL,
      topic text NOT NULL,
      message_key text,
      value bytea NOT NULL,
      headers jsonb NOT NULL,
      tier_rank smallint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX cm_outbox_relay_order ON cm_outbox (tier_rank, id)`);
    await q.query(`CREATE TABLE cm_dead_letters (
      id text PRIMARY KEY,
      consumer_group text NOT NULL,
      tier text NOT NULL,
      topic text NOT NULL,
      partition int NOT NULL,
      "offset" bigint NOT NULL,
      message_key bytea,
      value bytea,
      headers jsonb NOT NULL,
      error_code text NOT NULL,
      error_message text NOT NULL,
      attempts int NOT NULL,
      status text NOT NULL DEFAULT 'dead',
      failed_at timestamptz NOT NULL DEFAULT now(),
      redriven_at timestamptz,
      last_redrive_error text)`);
    await q.query(`CREATE INDEX cm_dead_letters_status ON cm_dead_letters (status, failed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['cm_dead_letters', 'cm_outbox', 'cm_consumer_offsets', 'cm_inbox']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
