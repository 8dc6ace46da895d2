import { TIER_RANK, Tier } from '@clinmesh/topology';
import { EventSchemaName } from '@clinmesh/schemas';
import { AvroSerde } from '../serde/avro-serde';
import { UnitOfWork } from '../persistence/unit-of-work';
import { OutboxRow, RuntimeRepository, StatRowsWritten } from '../persistence/runtime.repository';
import { EventMetadata, metadataToHeaders } from '../event-headers';
import { TurnTaker } from '../consumer/event-loop-turns';
import type { HandedRow } from './stat-handoff';

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

  /**
   * `onCommitted` wakes the relay once the writing transaction committed (with which tiers it wrote).
   * `statRelay`, when given, takes the stat rows of the transactions this writer writes for (`handOverStat`).
   */
  constructor(private readonly serde: AvroSerde, private readonly onCommitted: (tiers: 'stat' | 'other') => void, private readonly statRelay?: StatRelay) {}

  /**
   * A ticket for handing this transaction's stat rows to the relay (read before its closing statement),
   * or undefined when the relay's stat loop takes no hand-overs now: then `encode` wakes it as usual.
   */
  statTicket(): number | undefined {
    return this.statRelay?.ticket();
  }

  /**
   * After the closing statement returned its stat rows (`RuntimeRepository.closeChunk` with `returnStat`):
   * once committed, they go to the relay's stat loop — or, when the statement could not return them,
   * the loop is woken to select them. For a transaction encoded with a ticket.
   */
  handOverStat(uow: UnitOfWork, ticket: number, rows: OutboxRow[], written: StatRowsWritten | undefined): void {
    if (!rows.some((r) => r.tierRank === 0)) return;
    if (!written || !this.statRelay) {
      uow.afterCommit(this.wakeStat);
      return;
    }
    const handed = written.rows.map(({ id, row }) => ({ id, topic: row.topic, key: row.key, value: row.value, headers: row.headers }));
    uow.afterCommit(() => this.statRelay!.handOver(ticket, handed, written.othersWaiting));
  }

  /** `turns`: a lower tier's chunk takes event-loop turns while encoding (consumer/event-loop-turns.ts). */
  async write(uow: UnitOfWork, events: OutgoingEvent[], turns: TurnTaker = TurnTaker.never): Promise<void> {
    if (!events.length) return;
    const ticket = this.statTicket();
    const rows = await this.encode(uow, events, turns, ticket);
    const written = await new RuntimeRepository(uow).closeChunk({ inbox: [], offsets: [], outbox: rows, returnStat: ticket !== undefined });
    if (ticket !== undefined) this.handOverStat(uow, ticket, rows, written);
  }

  /**
   * The outbox rows of `events`, encoded, for the caller to insert in its transaction (a consumer
   * transaction writes them with its inbox rows and offsets in one statement: RuntimeRepository.closeChunk).
   * The relay is woken once the transaction has committed, per the tiers written — for stat rows not
   * when `statTicket` is given: the caller hands them over (`handOverStat`).
   */
  async encode(uow: UnitOfWork, events: OutgoingEvent[], turns: TurnTaker = TurnTaker.never, statTicket?: number): Promise<OutboxRow[]> {
    const rows: OutboxRow[] = [];
    let stat = false;
    let other = false;
    for (const e of events) {
      if (e.meta.tier === 'stat') stat = true;
      else other = true;
      // Named from the topic's schema when the emitter did not.
      const headers = metadataToHeaders(e.meta, e.meta.eventType ? undefined : this.serde.schemaNameFor(e.topic));
      rows.push({ eventId: e.meta.eventId, topic: e.topic, key: e.key, value: await this.serde.encode(e.topic, e.value), headers, tierRank: TIER_RANK[e.meta.tier] });
      await turns.afterRecord();
    }
    if (stat && statTicket === undefined) uow.afterCommit(this.wakeStat);
    if (other) uow.afterCommit(this.wakeOther);
    return rows;
  }
}

/** The relay's side of handing stat rows over (OutboxRelay). */
export interface StatRelay {
  ticket(): number | undefined;
  handOver(ticket: number, rows: HandedRow[], othersWaiting: boolean): void;
}
