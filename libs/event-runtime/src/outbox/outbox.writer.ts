import { TIER_RANK, Tier } from '@clinmesh/topology';
import { EventSchemaName } from '@clinmesh/schemas';
import { AvroSerde } from '../serde/avro-serde';
import { UnitOfWork } from '../persistence/unit-of-work';
import { OutboxRow, RuntimeRepository } from '../persistence/runtime.repository';
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
    await new RuntimeRepository(uow).insertOutbox(await this.encode(uow, events, turns));
  }

  /**
   * The outbox rows of `events`, encoded, for the caller to insert in its transaction (a consumer
   * transaction writes them with its inbox rows and offsets in one statement: RuntimeRepository.closeChunk).
   * The relay is woken once the transaction has committed, per the tiers written.
   */
  async encode(uow: UnitOfWork, events: OutgoingEvent[], turns: TurnTaker = TurnTaker.never): Promise<OutboxRow[]> {
    const rows: OutboxRow[] = [];
    let stat = false;
    let other = false;
    for (const e of events) {
      if (e.meta.tier === 'stat') stat = true;
      else other = true;
      const meta = e.meta.eventType ? e.meta : { ...e.meta, eventType: this.serde.schemaNameFor(e.topic) };
      rows.push({ eventId: e.meta.eventId, topic: e.topic, key: e.key, value: await this.serde.encode(e.topic, e.value), headers: metadataToHeaders(meta), tierRank: TIER_RANK[e.meta.tier] });
      await turns.afterRecord();
    }
    if (stat) uow.afterCommit(this.wakeStat);
    if (other) uow.afterCommit(this.wakeOther);
    return rows;
  }
}
