import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox becomes the log of record (issue 8): published rows move to
 * `cm_outbox_published` with the id of the cluster they went to and stay
 * there for the retention window; `cm_relay_clusters` remembers every cluster
 * this database has met, so meeting a new one (the in-memory embedded cluster
 * on every start) re-publishes the retained rows. `cm_outbox.republish` marks
 * rows moved back for re-publication (paced by downstream progress).
 * `cm_inbox.processed_at` gets an index for pruning by retention.
 */
export class OutboxRetention1764370000000 implements MigrationInterface {
  name = 'OutboxRetention1764370000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE cm_outbox_published (
      id bigint PRIMARY KEY,
      event_id text NOT NULL,
      topic text NOT NULL,
      message_key text,
      value bytea NOT NULL,
      headers jsonb NOT NULL,
      tier_rank smallint NOT NULL,
      created_at timestamptz NOT NULL,
      published_at timestamptz NOT NULL DEFAULT now(),
      cluster_id text NOT NULL)`);
    await q.query(`CREATE INDEX cm_outbox_published_created ON cm_outbox_published (created_at)`);
    await q.query(`CREATE TABLE cm_relay_clusters (
      cluster_id text PRIMARY KEY,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      republished int NOT NULL DEFAULT 0)`);
    await q.query(`ALTER TABLE cm_outbox ADD COLUMN republish boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX cm_outbox_republishing ON cm_outbox (id) WHERE republish`);
    await q.query(`CREATE INDEX cm_inbox_processed_at ON cm_inbox (processed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS cm_inbox_processed_at');
    await q.query('DROP INDEX IF EXISTS cm_outbox_republishing');
    await q.query('ALTER TABLE cm_outbox DROP COLUMN IF EXISTS republish');
    await q.query('DROP TABLE IF EXISTS cm_relay_clusters');
    await q.query('DROP TABLE IF EXISTS cm_outbox_published');
  }
}
