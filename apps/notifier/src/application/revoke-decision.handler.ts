import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import type { PolicyEvent } from '@clinmesh/schemas';
import { DeliveryStore } from './notifier.ports';
import { DeliveryReceipts } from './delivery-receipts';
import { FanOutChunks } from './fan-out-chunk';

/**
 * DECISION_REVOKED (a consent change withdrew a permitted decision): the
 * decision is remembered (every later attempt checks it) and every pending
 * delivery made under it is cancelled, with a CANCELLED delivery event each.
 * Deliveries fanned out earlier in the same transaction (buffered by its
 * `FanOutChunk`) are written first, so they are cancelled too; views of the
 * decision handled after it in the transaction are not enqueued.
 */
export class RevokeDecisionHandler {
  constructor(private readonly deliveries: DeliveryStore, private readonly chunks: FanOutChunks, private readonly receipts: DeliveryReceipts) {}

  handle = async (event: InboundEvent<PolicyEvent>, ctx: EventContext): Promise<void> => {
    const e = event.value;
    if (e.kind !== 'DECISION_REVOKED') return;
    await this.deliveries.recordRevokedDecision(ctx.uow, { decisionId: e.subjectId, epid: e.epid ?? null, audience: e.audience ?? null, reason: e.reason ?? null, at: e.at, sourceEventId: e.eventId });
    const chunk = this.chunks(ctx.uow);
    chunk.markRevoked(e.subjectId);
    await chunk.flush();
    const cancelled = await this.deliveries.cancelForDecision(ctx.uow, e.subjectId, 'DECISION_REVOKED');
    for (const d of cancelled) this.receipts.emit(ctx, d, 'CANCELLED', 'DECISION_REVOKED', null);
  };
}
