import { TIER_RANK, Tier } from '@clinmesh/topology';
import { EventSchemaName } from '@clinmesh/schemas';
import { AvroSerde } from '../serde/avro-serde';
import { UnitOfWork } from '../persistence/unit-of-work';
import { EventMetadata, metadataToHeaders } from '../event-headers';
import { TurnTaker } from '../consumer/event-loop-turns';

export interface OutgoingEvent<T = unknown> {
  topic: string;
  /** Partition key: a source patient key or EPID, never readable PHI. */
  key: string | null;
  value: T;
  meta: EventMetadata & { tier: Tier };
  /** Documentation only: the schema the topic carries. */
  schema?: EventSchemaName;
}

/**
 * Writes an event to the transactional outbox inside the caller's
 * transaction: encoded now (so the relay ships bytes and needs no serde) and
 * published later by the OutboxRelay. Nothing reaches Kafka unless the
 * transaction that produced it committed.
 */
export class OutboxWriter {
  private readonly wakeStat = () => this.onCommitted('stat');
  private readonly wakeOther = () => this.onCommitted('other');

  /** `onCommitted` wakes the relay once the writing transaction committed (with which tiers it wrote). */
  constructor(private readonly serde: AvroSerde, private readonly onCommitted: (tiers: 'stat' | 'other') => void) {}

  /** `turns`: a lower tier's chunk takes event-loop turns while encoding (consumer/event-loop-turns.ts). */
  async write(uow: UnitOfWork, events: OutgoingEvent[], turns: TurnTaker = TurnTaker.never): Promise<void> {
    if (!events.length) return;
    if (events.some((e) => e.meta.tier === 'stat')) uow.afterCommit(this.wakeStat);
    if (events.some((e) => e.meta.tier !== 'stat')) uow.afterCommit(this.wakeOther);
    const encoded: Buffer[] = [];
    for (const e of events) {
      encoded.push(await this.serde.encode(e.topic, e.value));
      await turns.afterRecord();
    }
    const params: unknown[] = [];
    const rows = events.map((e, i) => {
      const meta = e.meta.eventType ? e.meta : { ...e.meta, eventType: this.serde.schemaNameFor(e.topic) };
      params.push(e.meta.eventId, e.topic, e.key, encoded[i], JSON.stringify(metadataToHeaders(meta)), TIER_RANK[e.meta.tier]);
      const b = i * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::jsonb, $${b + 6})`;
    });
    await uow.execute(`INSERT INTO cm_outbox (event_id, topic, message_key, value, headers, tier_rank) VALUES ${rows.join(', ')}`, params);
  }
}
