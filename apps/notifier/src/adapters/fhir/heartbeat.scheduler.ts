import { deriveEventId } from '@clinmesh/event-runtime';
import { Logger } from '@clinmesh/observability';
import { notificationBundle } from '../../domain/fhir/notification-bundle';
import { SubscriptionRepository } from '../persistence/subscription.repository';

/**
 * Heartbeats at each FHIR subscription's heartbeatPeriod (when nothing else
 * was sent in that period): a `heartbeat` notification through the normal
 * delivery path; ids derive from the period slot, so replicas never double it.
 */
export class HeartbeatScheduler {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly subscriptions: SubscriptionRepository,
    private readonly options: { everyMs: number; resourceBaseUrl: string; subscriptionBaseUrl: string },
    private readonly logger: Logger,
    private readonly wake: () => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const n = await this.subscriptions.enqueueHeartbeats((s, slot) => {
        const id = deriveEventId(s.id, `heartbeat:${slot}`);
        return {
          deliveryId: id, subscriptionId: s.id, sourceEventId: id, correlationId: s.id, eventType: 'fhir.heartbeat', tier: 'routine', epid: null, decisionId: null,
          fhirEventNumber: null, focus: null, receivedAt: null,
          payload: notificationBundle({
            bundleId: id, subscriptionId: s.id, topic: s.fhir!.topic, status: s.fhir!.status, type: 'heartbeat', eventsSinceStart: s.fhir!.eventsSinceStart, events: [],
            resourceBase: this.options.resourceBaseUrl, subscriptionBase: this.options.subscriptionBaseUrl, payload: s.fhir!.payload, now: new Date().toISOString(),
          }),
        };
      });
      if (n) this.wake();
    } catch (error) {
      this.logger.warn({ err: String((error as Error)?.message ?? error) }, 'heartbeat scheduling failed');
    } finally {
      this.busy = false;
    }
  }
}
