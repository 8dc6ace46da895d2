import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import { TIER_RANK } from '@clinmesh/topology';
import type { TaskEvent } from '@clinmesh/schemas';
import { Subscription, subscriptionMatches } from '../domain/subscription';

/**
 * A task event → one durable delivery per matching subscription, written in
 * the consumer's transaction. Delivery ids derive from the event id and the
 * subscription, so redelivered events never create a second delivery; the
 * same id is the Idempotency-Key the subscriber sees.
 */
export class FanOutDeliveriesHandler {
  constructor(private readonly activeSubscriptions: () => Promise<Subscription[]>, private readonly wakeWorker: () => void) {}

  async handle(event: InboundEvent<TaskEvent>, ctx: EventContext): Promise<void> {
    const task = event.value;
    const matches = (await this.activeSubscriptions()).filter((s) =>
      subscriptionMatches(s.filter, { tier: task.tier, workflow: task.workflow, messageType: task.messageType, audiences: task.audiences }));
    for (const sub of matches) {
      const deliveryId = ctx.deriveEventId(`delivery:${sub.id}`);
      const payload = {
        type: `task.${task.change.toLowerCase()}`,
        deliveryId,
        eventId: task.eventId,
        correlationId: task.correlationId,
        occurredAt: new Date().toISOString(),
        tier: task.tier,
        task: {
          taskId: task.taskId, workflow: task.workflow, status: task.status, title: task.title, dueAt: new Date(task.dueAt).toISOString(),
          epid: task.epid, messageType: task.messageType, resourceType: task.resourceType, canonicalId: task.canonicalId,
        },
      };
      await ctx.uow.execute(
        `INSERT INTO nf_delivery (delivery_id, subscription_id, source_event_id, correlation_id, tier, tier_rank, payload, received_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb, to_timestamp($8 / 1000.0)) ON CONFLICT (delivery_id) DO NOTHING`,
        [deliveryId, sub.id, task.eventId, task.correlationId, task.tier, TIER_RANK[task.tier], JSON.stringify(payload), task.receivedAt],
      );
    }
    if (matches.length) setImmediate(this.wakeWorker);
  }
}
