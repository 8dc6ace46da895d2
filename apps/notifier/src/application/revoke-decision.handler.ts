import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import type { PolicyEvent } from '@clinmesh/schemas';
import { DeliveryStore } from './notifier.ports';
import { DeliveryReceipts } from './delivery-receipts';

/**
 * DECISION_REVOKED (a consent change withdrew a permitted decision): the
 * decision is remembered (every later attempt checks it) and every pending
 * delivery made under it is cancelled, with a CANCELLED delivery event each.
 */
export class RevokeDecisionHandler {
  constructor(private readonly deliveries: DeliveryStore, private readonly receipts: DeliveryReceipts) {}

  handle = async (event: InboundEvent<PolicyEvent>, ctx: EventContext): Promise<void> => {
    const e = event.value;
    if (e.kind !== 'DECISION_REVOKED') return;
    await this.deliveries.recordRevokedDecision(ctx.uow, { decisionId: e.subjectId, epid: e.epid ?? null, audience: e.audience ?? null, reason: e.reason ?? null, at: e.at, sourceEventId: e.eventId });
    const cancelled = await this.deliveries.cancelForDecision(ctx.uow, e.subjectId, 'DECISION_REVOKED');
    for (const d of cancelled) this.receipts.emit(ctx, d, 'CANCELLED', 'DECISION_REVOKED', null);
  };
}
