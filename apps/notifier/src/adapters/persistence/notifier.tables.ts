import { MigrationInterface, QueryRunner } from 'typeorm';

export class NotifierTables1732200005000 implements MigrationInterface {
  name = 'NotifierTables1732200005000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE nf_subscription (id text PRIMARY KEY, name text NOT NULL, url text NOT NULL, secret_sealed text NOT NULL,
      filter jsonb NOT NULL, active boolean NOT NULL DEFAULT true, created_by text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE nf_delivery (delivery_id text PRIMARY KEY, subscription_id text NOT NULL REFERENCES nf_subscription(id),
      source_event_id text NOT NULL, correlation_id text NOT NULL, tier text NOT NULL, tier_rank smallint NOT NULL, payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending', attempts int NOT NULL DEFAULT 0, next_attempt_at timestamptz NOT NULL DEFAULT now(),
      lease_until timestamptz, last_status int, last_error text, received_at timestamptz, created_at timestamptz NOT NULL DEFAULT now(), delivered_at timestamptz)`);
    await q.query(`CREATE INDEX nf_delivery_due ON nf_delivery (tier_rank, next_attempt_at) WHERE status = 'pending'`);
    await q.query('CREATE INDEX nf_delivery_subscription ON nf_delivery (subscription_id, created_at DESC)');
    await q.query('CREATE INDEX nf_delivery_correlation ON nf_delivery (correlation_id)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS nf_delivery');
    await q.query('DROP TABLE IF EXISTS nf_subscription');
  }
}
