import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A duplicate is the same sender, control id *and content*; the same sender
 * and control id with other content is a new message, kept with the flag
 * `control-id-reuse`. So the unique key becomes (sender, control id, content
 * hash), and messages get flags. Content hashes become SHA-256 of the bytes
 * with line endings normalised (CRLF and LF → CR, the HL7 segment
 * terminator): rows stored before are re-hashed the same way, so a resend of
 * an old message is still recognised.
 */
export class IngestContentDedupe1764374400000 implements MigrationInterface {
  name = 'IngestContentDedupe1764374400000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE in_message ADD COLUMN flags text[] NOT NULL DEFAULT '{}'`);
    // bytea 'escape' encoding leaves CR and LF as they are (it escapes only NUL, high-bit bytes and backslash).
    await q.query(`UPDATE in_message
      SET content_hash = encode(sha256(decode(replace(replace(encode(raw, 'escape'), E'\\r\\n', E'\\r'), E'\\n', E'\\r'), 'escape')), 'hex')
      WHERE position('\\x0a'::bytea IN raw) > 0`);
    await q.query('DROP INDEX in_message_sender_control');
    // Also serves the look-up of earlier messages with a sender + control id (its leading columns).
    await q.query('CREATE UNIQUE INDEX in_message_sender_control_content ON in_message (sender, control_id, content_hash)');
  }
  async down(q: QueryRunner): Promise<void> {
    // Fails while reused control ids are stored: going back would have to drop clinical messages.
    await q.query('DROP INDEX in_message_sender_control_content');
    await q.query('CREATE UNIQUE INDEX in_message_sender_control ON in_message (sender, control_id)');
    await q.query('ALTER TABLE in_message DROP COLUMN flags');
  }
}
