import type { EventRuntime } from '@clinmesh/event-runtime';
import type { DataSource } from 'typeorm';
import type { Logger } from '@clinmesh/observability';
import type { DecisionObserver, StoresFactory } from './ports';

/**
 * Releases the routed views that delay rules hold (`then.action: delay`), once
 * their release time has come: each view is published exactly as it was decided,
 * under its own routed event id and its own origin (correlation, causation), and
 * a batch of them is released in one transaction with their rows marked released
 * (three statements whatever the batch's size) — a crash before the commit
 * publishes nothing and the next pass releases them; a second instance skips the
 * views another one has locked.
 * A consent revoked in the meantime still reaches it: the notifier checks the
 * decision's revocation before every delivery.
 */
export class HeldViewRelease {
  constructor(
    private readonly runtime: Pick<EventRuntime, 'inTransactionEach'>,
    private readonly db: DataSource,
    private readonly stores: StoresFactory,
    private readonly observer: Pick<DecisionObserver, 'released'> = { released: () => undefined },
    private readonly clock: () => number = Date.now,
  ) {}

  /** One timer pass: every view due now, oldest first, `batch` per transaction. */
  async releaseDue(logger?: Logger, batch = 100): Promise<number> {
    let released = 0;
    for (;;) {
      const due = await this.stores(this.db).held.due(new Date(this.clock()), batch);
      const origins = due.map((view) => ({
        // The view keeps its story: the original correlation and the canonical event that caused it. No receivedAt:
        // a held view's end-to-end latency would measure the hold, not the pipeline.
        id: `held-release:${view.routedEventId}`, correlationId: view.value.correlationId, causationId: view.value.causationId, tier: view.tier, source: 'policy-timer',
      }));
      const done = due.length === 0 ? [] : await this.runtime.inTransactionEach(origins, async (contexts) => {
        const held = this.stores(contexts[0].uow).held;
        const claimed = await held.claim(due.map((v) => v.routedEventId));
        const releasing = due.filter((view, i) => {
          if (!claimed.has(view.routedEventId)) return false;
          contexts[i].emit({ topic: view.topic, key: view.key, value: view.value, eventId: view.routedEventId, tier: view.tier });
          return true;
        });
        await held.markReleased(releasing.map((v) => v.routedEventId));
        return releasing;
      });
      for (const view of done) this.observer.released(view.audience);
      released += done.length;
      // A full batch may have more behind it; a batch whose views another instance had locked is left to that one.
      if (due.length < batch || done.length === 0) break;
    }
    if (released) logger?.info({ released }, 'held routed views released');
    return released;
  }
}
