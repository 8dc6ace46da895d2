import { EventContext } from '@clinmesh/event-runtime';
import { EVENT_TOPICS } from '@clinmesh/topology';
import type { DeliveryEvent, OperationsEvent } from '@clinmesh/schemas';
import { ClaimedDelivery } from './notifier.ports';

/** The DeliveryEvents (and operations events) the notifier publishes; ids derive from the work's origin. */
export class DeliveryReceipts {
  emit(ctx: EventContext, d: Pick<ClaimedDelivery, 'deliveryId' | 'subscriptionId' | 'correlationId' | 'sourceEventId' | 'attempts' | 'audience' | 'purposeOfUse' | 'decisionId' | 'epid' | 'tier' | 'eventType' | 'kind'>,
    status: DeliveryEvent['status'], reason: string | null, httpStatus: number | null): void {
    const value: DeliveryEvent = {
      eventId: ctx.deriveEventId(`receipt:${d.deliveryId}:${status}`),
      correlationId: d.correlationId,
      deliveryId: d.deliveryId,
      subscriptionId: d.subscriptionId,
      sourceEventId: d.sourceEventId,
      status,
      attempts: d.attempts,
      httpStatus,
      at: Date.now(),
      audience: d.audience,
      purposeOfUse: d.purposeOfUse,
      decisionId: d.decisionId,
      epid: d.epid,
      tier: d.tier,
      sourceEventType: d.eventType,
      channel: d.kind === 'fhir' ? 'fhir-rest-hook' : 'webhook',
      reason,
    };
    ctx.emit({ topic: EVENT_TOPICS.delivery, key: d.subscriptionId, value });
  }

  /** An operations event for what an operator should look at (a dead delivery, a disabled endpoint); no PHI. */
  operations(ctx: EventContext, code: string, message: string, subject: { subscriptionId: string; deliveryId?: string; sourceEventId?: string }): void {
    const value: OperationsEvent = {
      eventId: ctx.deriveEventId(`ops:${code}:${subject.deliveryId ?? subject.subscriptionId}`),
      correlationId: ctx.origin.correlationId,
      kind: 'OTHER',
      service: 'notifier',
      consumerGroup: `notifier.subscription.${subject.subscriptionId}`,
      deadLetterId: null,
      topic: null,
      partition: null,
      offset: null,
      sourceEventId: subject.sourceEventId ?? null,
      errorCode: code,
      errorMessage: message,
      actor: null,
      at: Date.now(),
    };
    ctx.emit({ topic: EVENT_TOPICS.operations, key: subject.subscriptionId, value });
  }
}
