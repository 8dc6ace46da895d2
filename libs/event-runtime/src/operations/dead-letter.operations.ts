import { DataSource } from 'typeorm';
import { ClinmeshError } from '@clinmesh/errors';
import { HEADER } from '../event-headers';
import { RuntimeRepository, StoredDeadLetter, poolQueries } from '../persistence/runtime.repository';
import type { EventConsumer } from '../consumer/event-consumer';

export interface DeadLetterView {
  id: string;
  consumerGroup: string;
  tier: string;
  topic: string;
  partition: number;
  offset: number;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  status: 'dead' | 'redriven';
  failedAt: string;
  redrivenAt: string | null;
  lastRedriveError: string | null;
  correlationId: string | null;
  eventId: string | null;
}

/** Dead letters listed per correlation id: one message has a few at most; the bound keeps a runaway one cheap. */
const DEAD_LETTERS_PER_CORRELATION = 200;

export interface DeadLetterFilter {
  status?: string;
  errorCode?: string;
  consumerGroup?: string;
  since?: Date;
  limit?: number;
}

/**
 * Lists and redrives dead letters. A redrive runs the stored original bytes
 * through the consumer that dead-lettered them, in one transaction with the
 * status change and its REDRIVEN operations event (see EventConsumer.redrive),
 * so a redriven event's effects and outputs are exactly those it would have had.
 */
export class DeadLetterOperations {
  private readonly tables: RuntimeRepository;

  constructor(dataSource: DataSource, private readonly consumerOfGroup: (group: string) => EventConsumer | undefined) {
    this.tables = new RuntimeRepository(poolQueries(dataSource));
  }

  async list(filter: DeadLetterFilter = {}): Promise<DeadLetterView[]> {
    const rows = await this.tables.listDeadLetters({ ...filter, limit: Math.min(filter.limit ?? 100, 1000) });
    return rows.map(deadLetterView);
  }

  async get(id: string): Promise<StoredDeadLetter> {
    const dl = await this.find(id);
    if (!dl) throw new ClinmeshError('DEAD_LETTER.NOT_FOUND', `dead letter ${id} not found`, { status: 404 });
    return dl;
  }

  find(id: string): Promise<StoredDeadLetter | undefined> {
    return this.tables.deadLetter(id);
  }

  /** The dead letters of one message (its correlation id), oldest first. */
  ofCorrelation(correlationId: string): Promise<StoredDeadLetter[]> {
    return this.tables.deadLettersOfCorrelation(correlationId, DEAD_LETTERS_PER_CORRELATION);
  }

  async redrive(id: string, actor = 'system'): Promise<{ id: string; status: 'redriven' | 'dead'; error?: string }> {
    const dl = await this.get(id);
    if (dl.status === 'redriven') return { id, status: 'redriven' };
    const consumer = this.consumerOfGroup(dl.consumerGroup);
    if (!consumer) throw new ClinmeshError('DEAD_LETTER.NO_CONSUMER', `no consumer ${dl.consumerGroup} in this service to redrive into`, { status: 409 });
    return consumer.redrive(id, actor);
  }

  async redriveAll(filter: Omit<DeadLetterFilter, 'status' | 'limit'> = {}, actor = 'system'): Promise<Array<{ id: string; status: string; error?: string }>> {
    const rows = await this.tables.listDeadLetters({ ...filter, status: 'dead', limit: 10000 });
    const results = [];
    // Oldest first, so a partition's dead letters are redriven in their original order.
    for (const r of rows.reverse()) results.push(await this.redrive(r.id, actor));
    return results;
  }
}

/** A dead letter as the HTTP answers show it: ISO times, the event's correlation and event ids, no payload. */
export function deadLetterView(r: StoredDeadLetter): DeadLetterView {
  return {
    id: r.id, consumerGroup: r.consumerGroup, tier: r.tier, topic: r.topic, partition: r.partition, offset: r.offset,
    errorCode: r.errorCode, errorMessage: r.errorMessage, attempts: r.attempts, status: r.status, failedAt: r.failedAt.toISOString(),
    redrivenAt: r.redrivenAt ? r.redrivenAt.toISOString() : null, lastRedriveError: r.lastRedriveError,
    correlationId: r.headers[HEADER.correlationId] ?? null, eventId: r.headers[HEADER.eventId] ?? null,
  };
}
