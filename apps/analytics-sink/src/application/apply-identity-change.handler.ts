import { EventContext } from '@clinmesh/event-runtime';
import type { IdentityEvent } from '@clinmesh/schemas';
import { epidChangeOf } from '../domain/identity-change';
import { AnalyticsStorePort } from '../domain/analytics-store.port';

/** clinical.identity.events → merges and unmerges re-point the analytics rows' EPIDs. */
export class ApplyIdentityChangeHandler {
  constructor(private readonly store: (ctx: EventContext) => AnalyticsStorePort) {}

  async handle(event: IdentityEvent, ctx: EventContext): Promise<number> {
    const change = epidChangeOf(event);
    return change ? this.store(ctx).applyEpidChange(change) : 0;
  }
}
