import type { EventRuntime } from '@clinmesh/event-runtime';
import type { DataSource } from 'typeorm';
import type { Logger } from '@clinmesh/observability';
import type { DecisionObserver, StoresFactory } from './ports';

/**
 * Releases the routed views that delay rules hold (`then.action: delay`), once
 * their release time has come: each view is published exactly as it was decided,
 * under its own routed event id, in its own transaction with the row marked
 * released — a crash between the two publishes nothing and the next pass
 * releases it; a second instance skips a view another one has locked.
 * A consent revoked in the meantime still reaches it: the notifier checks the
 * decision's revocation before every delivery.
 */
export class HeldViewRelease {
  constructor(
    private readonly runtime: Pick<EventRuntime, 'inTransaction'>,
    private readonly db: DataSource,
    private readonly stores: StoresFactory,
    private readonly observer: Pick<DecisionObserver, 'released'> = { released: () => undefined },
    private readonly clock: () => number = Date.now,
  ) {}

  /** One timer pass: every view due now, oldest first. */
  async releaseDue(logger?: Logger, batch = 100): Promise<number> {
    let released = 0;
    for (;;) {
      const due = await this.stores(this.db).held.due(new Date(this.clock()), batch);
      for (const view of due) {
        const origin = {
          // The view keeps its story: the original correlation and the canonical event that caused it. No receivedAt:
          // a held view's end-to-end latency would measure the hold, not the pipeline.
          id: `held-release:${view.routedEventId}`, correlationId: view.value.correlationId, causationId: view.value.causationId, tier: view.tier, source: 'policy-timer',
        };
        const done = await this.runtime.inTransaction(origin, async (ctx) => {
          const held = this.stores(ctx.uow).held;
          if (!(await held.claim(view.routedEventId))) return false;
          ctx.emit({ topic: view.topic, key: view.key, value: view.value, eventId: view.routedEventId, tier: view.tier });
          await held.markReleased(view.routedEventId);
          return true;
        });
        if (done) {
          released++;
          this.observer.released(view.audience);
        }
      }
      if (due.length < batch) break;
    }
    if (released) logger?.info({ released }, 'held routed views released');
    return released;
  }
}
