import { DataSource } from 'typeorm';
import { UnitOfWork } from '@clinmesh/event-runtime';
import { AcceptedMessageRow, MessageStorePort, StoredMessageRef } from '../../application/intake.ports';
import { CONTROL_ID_REUSE } from '../../domain/message-content';

/** First key of ingest's advisory locks (the two-key space, apart from any single-key lock). */
const CONTROL_ID_LOCK_SPACE = 0x1e57;

/** Raw messages, ACKs and rejections in ingest's own database. */
export class MessageRepository implements MessageStorePort {
  constructor(private readonly db: DataSource) {}

  async findDuplicate(uow: UnitOfWork | null, sender: string, controlId: string, contentHash: string): Promise<StoredMessageRef | undefined> {
    const sql = 'SELECT message_id, content_hash, ack, tier, flags FROM in_message WHERE sender = $1 AND control_id = $2 AND content_hash = $3';
    const params = [sender, controlId, contentHash];
    const rows = uow ? await uow.query<Record<string, unknown>>(sql, params) : await this.db.query(sql, params);
    const r = rows[0] as { message_id: string; content_hash: string; ack: string | null; tier: string; flags: string[] } | undefined;
    return r ? { messageId: r.message_id, contentHash: r.content_hash, ack: r.ack, tier: r.tier, flags: r.flags } : undefined;
  }

  async insertAccepted(uow: UnitOfWork, rows: ReadonlyArray<AcceptedMessageRow>): Promise<Array<{ flags: string[] } | undefined>> {
    if (!rows.length) return [];
    // Arrivals under one sender + control id take turns (transaction-scoped locks), so the one that comes
    // second sees the first committed and is flagged even when both race in on two connections. Every
    // transaction takes its locks in the same (hash) order, so two groups never wait on each other in a circle.
    const lockKeys = [...new Set(rows.map((m) => `${m.sender}\u0001${m.controlId}`))];
    await uow.query(
      'SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY 1) AS keys',
      [CONTROL_ID_LOCK_SPACE, lockKeys], { prepared: true },
    );
    // Inside one group the statement's snapshot cannot see the group's own earlier rows: an earlier row
    // of the group with the same sender + control id and other content is reuse as well.
    const reusedInGroup = rows.map((m, i) => rows.slice(0, i).some((e) => e.sender === m.sender && e.controlId === m.controlId && e.contentHash !== m.contentHash));
    // ON CONFLICT instead of a look-up first: the same content again (a resend, or twice in the group) writes nothing.
    const inserted = await uow.query<{ message_id: string; flags: string[] }>(
      `INSERT INTO in_message (message_id, sender, control_id, content_hash, format, channel, message_type, tier, triage_rule, received_at, raw, ack, flags)
       SELECT r.message_id, r.sender, r.control_id, r.content_hash, r.format, r.channel, r.message_type, r.tier, r.triage_rule,
         to_timestamp(r.received_at / 1000.0), r.raw, r.ack,
         CASE WHEN r.reused OR EXISTS (SELECT 1 FROM in_message p WHERE p.sender = r.sender AND p.control_id = r.control_id AND p.content_hash <> r.content_hash)
           THEN ARRAY[$14::text] ELSE '{}'::text[] END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
         $10::float8[], $11::bytea[], $12::text[], $13::bool[]) WITH ORDINALITY
         AS r(message_id, sender, control_id, content_hash, format, channel, message_type, tier, triage_rule, received_at, raw, ack, reused, n)
       ORDER BY r.n
       ON CONFLICT DO NOTHING
       RETURNING message_id, flags`,
      [
        rows.map((m) => m.messageId), rows.map((m) => m.sender), rows.map((m) => m.controlId), rows.map((m) => m.contentHash),
        rows.map((m) => m.format), rows.map((m) => m.channel), rows.map((m) => m.messageType), rows.map((m) => m.tier),
        rows.map((m) => m.triageRule), rows.map((m) => m.receivedAt), rows.map((m) => m.raw), rows.map((m) => m.ack), reusedInGroup, CONTROL_ID_REUSE,
      ],
      { prepared: true },
    );
    const flagsById = new Map(inserted.map((r) => [r.message_id, r.flags]));
    // The same content twice in the group has one message id: its first arrival was written, the later one is a duplicate.
    return rows.map((m) => {
      const flags = flagsById.get(m.messageId);
      flagsById.delete(m.messageId);
      return flags ? { flags } : undefined;
    });
  }

  async insertRejection(r: Parameters<MessageStorePort['insertRejection']>[0]): Promise<void> {
    await this.db.query(
      `INSERT INTO in_rejection (id, sender, channel, message_type, control_id, reason, detail, raw, content_hash, received_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,to_timestamp($10 / 1000.0))`,
      [r.id, r.sender, r.channel, r.messageType, r.controlId, r.reason, r.detail, r.raw, r.contentHash, r.receivedAt],
    );
  }

  async message(id: string): Promise<Record<string, unknown> | undefined> {
    const rows = await this.db.query(
      `SELECT message_id, sender, control_id, format, channel, message_type, tier, triage_rule, received_at, ack, status, flags, octet_length(raw) AS size
       FROM in_message WHERE message_id = $1`, [id]);
    return rows[0];
  }

  /** Messages stored under a control id (optionally of one sender), oldest first: what a reused control id stands for. */
  async messagesWithControlId(filter: { controlId: string; sender?: string; limit: number }): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT message_id, sender, control_id, format, channel, message_type, tier, triage_rule, received_at, status, flags, octet_length(raw) AS size
       FROM in_message WHERE control_id = $1 AND ($2::text IS NULL OR sender = $2)
       ORDER BY received_at, message_id LIMIT $3`,
      [filter.controlId, filter.sender ?? null, filter.limit],
    );
  }

  async rejections(filter: { sender?: string; reason?: string; since?: Date; until?: Date; limit: number }): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT id, sender, channel, message_type, control_id, reason, detail, received_at, octet_length(raw) AS size FROM in_rejection
       WHERE ($1::text IS NULL OR sender = $1) AND ($2::text IS NULL OR reason = $2) AND ($3::timestamptz IS NULL OR received_at >= $3)
         AND ($4::timestamptz IS NULL OR received_at < $4)
       ORDER BY received_at DESC LIMIT $5`,
      [filter.sender ?? null, filter.reason ?? null, filter.since ?? null, filter.until ?? null, filter.limit],
    );
  }
}
