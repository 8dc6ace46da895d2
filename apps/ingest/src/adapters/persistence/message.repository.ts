import { DataSource } from 'typeorm';
import { UnitOfWork } from '@clinmesh/event-runtime';
import { MessageStorePort, StoredMessageRef } from '../../application/intake.ports';

/** Raw messages, ACKs and rejections in ingest's own database. */
export class MessageRepository implements MessageStorePort {
  constructor(private readonly db: DataSource) {}

  async findBySenderAndControlId(uow: UnitOfWork | null, sender: string, controlId: string): Promise<StoredMessageRef | undefined> {
    const sql = 'SELECT message_id, content_hash, ack, tier FROM in_message WHERE sender = $1 AND control_id = $2';
    const rows = uow ? await uow.query<Record<string, string>>(sql, [sender, controlId]) : await this.db.query(sql, [sender, controlId]);
    const r = rows[0];
    return r ? { messageId: r.message_id, contentHash: r.content_hash, ack: r.ack, tier: r.tier } : undefined;
  }

  async insertAccepted(uow: UnitOfWork, m: Parameters<MessageStorePort['insertAccepted']>[1]): Promise<boolean> {
    // ON CONFLICT instead of a look-up first: one round trip less per message, and a racing copy is not an error.
    const inserted = await uow.execute(
      `INSERT INTO in_message (message_id, sender, control_id, content_hash, format, channel, message_type, tier, triage_rule, received_at, raw, ack)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,to_timestamp($10 / 1000.0),$11,$12)
       ON CONFLICT (sender, control_id) DO NOTHING`,
      [m.messageId, m.sender, m.controlId, m.contentHash, m.format, m.channel, m.messageType, m.tier, m.triageRule, m.receivedAt, m.raw, m.ack],
    );
    return inserted === 1;
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
      `SELECT message_id, sender, control_id, format, channel, message_type, tier, triage_rule, received_at, ack, status, octet_length(raw) AS size
       FROM in_message WHERE message_id = $1`, [id]);
    return rows[0];
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
