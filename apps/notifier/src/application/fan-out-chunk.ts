import { UnitOfWork, perUnitOfWork } from '@clinmesh/event-runtime';
import type { DeliveryStore, NewDelivery } from './notifier.ports';

/**
 * The fan-out's writes in one consumer transaction (a chunk of routed views and task events), set-based:
 * the chunk's revoked decisions are read in one query (`preloadRevoked`, the routed consumer's prepare
 * step), deliveries are buffered, and `flush` (the consumers' complete step) writes them in one multi-row
 * insert whatever the chunk's size — instead of a revocation lookup and an insert per event.
 *
 * The result equals handling the events one by one: a decision revoked in this transaction (a policy event
 * handled beside the views) is known at once (`markRevoked`), and the revocation flushes what is buffered
 * before it cancels the decision's pending deliveries, so a view fanned out before it is cancelled (with its
 * CANCELLED receipt) exactly as it would have been.
 */
export class FanOutChunk {

  /** Decision id → revoked; a decision not asked about yet is absent. */
  private readonly revoked = new Map<string, boolean>();
  private buffered: NewDelivery[] = [];

  constructor(private readonly uow: UnitOfWork, private readonly store: DeliveryStore) {}

  /** One query for every decision of the chunk. */
  async preloadRevoked(decisionIds: Array<string | null | undefined>): Promise<void> {
    const wanted = [...new Set(decisionIds.filter((id): id is string => !!id && !this.revoked.has(id)))];
    if (!wanted.length) return;
    const revoked = await this.store.revokedAmong(this.uow, wanted);
    for (const id of wanted) this.revoked.set(id, revoked.has(id));
  }

  async isDecisionRevoked(decisionId: string): Promise<boolean> {
    if (!this.revoked.has(decisionId)) await this.preloadRevoked([decisionId]);
    return this.revoked.get(decisionId)!;
  }

  /** A revocation recorded in this transaction: views of the decision handled after it are not enqueued. */
  markRevoked(decisionId: string): void {
    this.revoked.set(decisionId, true);
  }

  enqueue(rows: NewDelivery[]): void {
    for (const row of rows) this.buffered.push(row);
  }

  /** Writes what is buffered (one statement); the number of new deliveries (a redelivered event's are already there). */
  async flush(): Promise<number> {
    if (!this.buffered.length) return 0;
    const rows = this.buffered;
    this.buffered = [];
    return this.store.enqueue(this.uow, rows);
  }
}

/** The fan-out chunk of each transaction (one per unit of work), shared by the fan-out and the revocation handler. */
export type FanOutChunks = (uow: UnitOfWork) => FanOutChunk;

export function fanOutChunks(store: DeliveryStore): FanOutChunks {
  return perUnitOfWork((uow) => new FanOutChunk(uow, store));
}
