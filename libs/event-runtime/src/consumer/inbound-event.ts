import { Tier } from '@clinmesh/topology';
import { UnitOfWork } from '../persistence/unit-of-work';
import { OutgoingEvent } from '../outbox/outbox.writer';
import { EventMetadata } from '../event-headers';

/** A decoded event as application handlers see it (no kafkajs types). */
export interface InboundEvent<T = unknown> {
  eventId: string;
  correlationId: string;
  causationId?: string;
  traceparent?: string;
  tier: Tier;
  source?: string;
  receivedAt?: number;
  eventType?: string;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  headers: Record<string, string>;
  schemaId: number;
  value: T;
}

export interface EventContext {
  readonly uow: UnitOfWork;
  /** Deterministic id for an output of this event (same on retry and replay). */
  deriveEventId(purpose: string): string;
  /** Queue an event for the outbox in this transaction. Metadata not given is inherited from the input. */
  emit<T>(event: { topic: string; key: string | null; value: T; eventId: string; tier?: Tier; eventType?: string }): void;
}

/** An application use case bound to a topic: decode → handle → classify is the runtime's job. */
export type EventHandler<T = unknown> = (event: InboundEvent<T>, ctx: EventContext) => Promise<void>;

export type OutgoingWithMeta = OutgoingEvent & { meta: EventMetadata & { tier: Tier } };
