import { MigrationInterface, QueryRunner } from 'typeorm';

export class IngestTables1732200000100 implements MigrationInterface {
  name = 'IngestTables1732200000100';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE in_message (
      message_id text PRIMARY KEY, sender text NOT NULL, control_id text NOT NULL, content_hash text NOT NULL, format text NOT NULL,
      channel text NOT NULL, message_type text NOT NULL, tier text NOT NULL, triage_rule text NOT NULL, received_at timestamptz NOT NULL,
      raw bytea NOT NULL, ack text, status text NOT NULL DEFAULT 'accepted')`);
    await q.query('CREATE UNIQUE INDEX in_message_sender_control ON in_message (sender, control_id)');
    await q.query('CREATE INDEX in_message_received ON in_message (received_at)');
    await q.query(`CREATE TABLE in_rejection (
      id text PRIMARY KEY, sender text NOT NULL, channel text NOT NULL, message_type text, control_id text, reason text NOT NULL,
      detail text NOT NULL, raw bytea NOT NULL, content_hash text NOT NULL, received_at timestamptz NOT NULL)`);
    await q.query('CREATE INDEX in_rejection_lookup ON in_rejection (sender, reason, received_at DESC)');
    await q.query('CREATE INDEX in_rejection_received ON in_rejection (received_at DESC)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS in_rejection');
    await q.query('DROP TABLE IF EXISTS in_message');
  }
}
