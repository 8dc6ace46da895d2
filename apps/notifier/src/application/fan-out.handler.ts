import { EventContext, InboundEvent, UnitOfWork } from '@clinmesh/event-runtime';
import type { RoutedEvent, TaskEvent } from '@clinmesh/schemas';
import { Subscription, subscriptionMatches } from '../domain/subscription';
import { DeliverableEvent, routedDeliverable, taskDeliverable } from '../domain/webhook-payload';
import { topicByUrl } from '../domain/fhir/subscription-topics';
import { notificationBundle } from '../domain/fhir/notification-bundle';
import { focusResource } from '../domain/fhir/focus-resource';
import { DeliveryStore, NewDelivery, SubscriptionSnapshot } from './notifier.ports';
import { FanOutChunks } from './fan-out-chunk';

export interface FanOutOptions {
  resourceBaseUrl: string;
  subscriptionBaseUrl: string;
  now?: () => number;
}

/**
 * A routed view (one per permitted audience) or a task lifecycle event →
 * one durable delivery per matching subscription, written in the consumer's
 * transaction. Delivery ids derive from the event id and the subscription, so
 * a redelivered event never makes a second delivery; the same id is the
 * `webhook-id` the subscriber sees. A view whose decision was already revoked
 * is not enqueued.
 *
 * Set-based per transaction (`FanOutChunk`): `prepareRouted` reads the chunk's
 * revoked decisions at once, the handlers buffer, `complete` inserts every
 * delivery of the transaction in one statement and wakes the worker after commit.
 */
export class FanOutHandler {
  constructor(
    private readonly subscriptions: SubscriptionSnapshot,
    private readonly deliveries: DeliveryStore,
    private readonly chunk: FanOutChunks,
    private readonly options: FanOutOptions,
    private readonly wakeWorker: () => void,
  ) {}

  /** Before the routed views of a transaction: their revoked decisions, in one query. */
  prepareRouted = async (events: Array<InboundEvent<RoutedEvent>>, uow: UnitOfWork): Promise<void> => {
    await this.chunk(uow).preloadRevoked(events.map((e) => e.value.decisionId));
  };

  handleRouted = async (event: InboundEvent<RoutedEvent>, ctx: EventContext): Promise<void> => {
    if (!event.value.audience || event.value.deidentified) return;
    const d = routedDeliverable(event.value, this.now());
    if (d.decisionId && (await this.chunk(ctx.uow).isDecisionRevoked(d.decisionId))) return;
    await this.fanOut(d, ctx);
  };

  handleTask = async (event: InboundEvent<TaskEvent>, ctx: EventContext): Promise<void> => {
    await this.fanOut(taskDeliverable(event.value, this.now()), ctx);
  };

  private async fanOut(d: DeliverableEvent, ctx: EventContext): Promise<void> {
    const subs = (await this.subscriptions.forFanOut(ctx.uow)).filter((s) => this.matches(s, d));
    if (!subs.length) return;
    const rows: NewDelivery[] = [];
    for (const s of subs) {
      const deliveryId = ctx.deriveEventId(`delivery:${s.id}`);
      const focus = d.focus ? `${d.focus.resourceType}/${d.focus.id}` : null;
      let eventType = d.type;
      let payload = d.body as unknown as Record<string, unknown>;
      let fhirEventNumber: number | null = null;
      if (s.kind === 'fhir' && s.fhir) {
        fhirEventNumber = await this.deliveries.takeFhirEventNumber(ctx.uow, s.id);
        eventType = 'fhir.event-notification';
        payload = notificationBundle({
          bundleId: deliveryId, subscriptionId: s.id, topic: s.fhir.topic, status: 'active', type: 'event-notification', eventsSinceStart: fhirEventNumber,
          events: [{ eventNumber: fhirEventNumber, timestamp: new Date(this.now()).toISOString(), focus, resource: s.fhir.payload === 'full-resource' ? focusResource(d.view, d.focus) : null }],
          resourceBase: this.options.resourceBaseUrl, subscriptionBase: this.options.subscriptionBaseUrl, payload: s.fhir.payload,
          now: new Date(this.now()).toISOString(),
        });
      }
      rows.push({
        deliveryId, subscriptionId: s.id, sourceEventId: d.sourceEventId, correlationId: d.correlationId, eventType, tier: d.tier, epid: d.epid,
        decisionId: d.decisionId, payload, fhirEventNumber, focus, receivedAt: d.receivedAt,
      });
    }
    this.chunk(ctx.uow).enqueue(rows);
  }

  /** After the handlers of a transaction (routed views and task events alike): every buffered delivery, one insert. */
  complete = async (uow: UnitOfWork): Promise<void> => {
    if (await this.chunk(uow).flush()) uow.afterCommit(this.wakeWorker);
  };

  private matches(s: Subscription, d: DeliverableEvent): boolean {
    if (s.kind === 'fhir') {
      const topic = s.fhir ? topicByUrl(s.fhir.topic) : undefined;
      if (!topic || !s.fhir || s.fhir.status === 'off' || s.fhir.status === 'error') return false;
      // The audience and purpose binding holds for FHIR subscribers too.
      return topic.matches(d.match) && subscriptionMatches({ ...s, events: ['routed', 'task.*'] }, d.match);
    }
    return subscriptionMatches(s, d.match);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
