/**
 * Group commit: work items submitted while a commit is in flight (or in the same turn of the event
 * loop) wait and go together into the next one transaction. Alone, an item commits at once: nothing
 * idle is ever held. A transaction has a fixed cost — its round trips and a WAL flush — that on this
 * kind of machine (every system call dear) outweighs the work of a small item; a group pays it once.
 *
 * If a shared transaction fails, every item is committed on its own, so a failing item never fails
 * or delays the others beyond that one attempt. Items are committed in submission order.
 *
 * Used by the consumer lanes (TransactionCombiner: chunks of several partitions) and by work that
 * finishes one item at a time outside a consumer (the notifier's webhook attempts).
 */
export class GroupCommit<I, R = void> {
  private queue: Array<{ item: I; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  private running = false;

  constructor(
    private readonly options: {
      /** At most this much weight in one shared transaction (always at least one item). */
      maxWeight: number;
      /** An item's weight (records, rows); default 1. */
      weight?: (item: I) => number;
      /** Commits the items in one transaction; the result of item i at index i. */
      commit: (items: I[]) => Promise<R[] | void>;
    },
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        // One turn of the event loop: items submitted by the same turn's callbacks join this commit.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const group = this.take();
        try {
          const results = await this.options.commit(group.map((g) => g.item));
          group.forEach((g, i) => g.resolve((results ? results[i] : undefined) as R));
        } catch (error) {
          if (group.length === 1) {
            group[0].reject(error);
            continue;
          }
          // Each item on its own: only the failing one reports the failure.
          for (const g of group) {
            try {
              const results = await this.options.commit([g.item]);
              g.resolve((results ? results[0] : undefined) as R);
            } catch (own) {
              g.reject(own);
            }
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** The queued items, oldest first, up to `maxWeight` (always at least one). */
  private take(): typeof this.queue {
    const weight = this.options.weight ?? (() => 1);
    let total = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || total + weight(this.queue[n].item) <= this.options.maxWeight)) {
      total += weight(this.queue[n].item);
      n += 1;
    }
    return this.queue.splice(0, n);
  }
}
