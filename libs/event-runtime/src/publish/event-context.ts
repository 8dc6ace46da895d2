import { Tier } from '@clinmesh/topology';
import { ClinmeshError } from '@clinmesh/errors';
import { createLogger, type LogContext, type Logger } from '@clinmesh/observability';
import type { UnitOfWork } from '../persistence/unit-of-work';
import type { OutgoingEvent } from '../outbox/outbox.writer';
import type { InboundEvent } from '../consumer/inbound-event';
import { childTraceparent, deriveEventId } from '../event-id';

/**
 * Where a unit of work comes from: a consumed event, an HTTP request, a
 * timer. Everything emitted in it inherits correlation, tier, source and the
 * original receipt time from here, and derives its ids from `id`, so a retry
 * of the same work emits the same ids and downstream inboxes dedupe them.
 */
export interface EventOrigin {
  /** Output ids derive from this: the input event id, an operation id, a message id, a timer id. */
  id: string;
  /** Id of the original message, carried through every stage. */
  correlationId: string;
  /** The event that caused this work, when one did. */
  causationId?: string;
  tier: Tier;
  source?: string;
  /** Epoch ms of the original message's receipt (end-to-end latency origin). */
  receivedAt?: number;
  traceparent?: string;
}

/** An event a handler emits; metadata it does not give is inherited from the origin. */
export interface EmittedEvent<T> {
  topic: string;
  /** Partition key: a source patient key or EPID, never readable PHI. */
  key: string | null;
  value: T;
  /** Defaults to `value.eventId`; derive it with `deriveEventId(purpose)`. */
  eventId?: string;
  /** Defaults to the origin's tier (raise it for an escalation; never lower silently). */
  tier?: Tier;
  /** Defaults to the schema the topic carries (filled in by the outbox writer). */
  eventType?: string;
}

/**
 * What every handler gets, whether it runs for a consumed event or inside
 * `runtime.inTransaction`: the transaction, deterministic ids and the one
 * way to publish (the transactional outbox, written when the transaction
 * commits its effects).
 */
export interface EventContext {
  readonly uow: UnitOfWork;
  readonly origin: Readonly<EventOrigin>;
  /** Deterministic id for an output of this work (same on retry and replay). */
  deriveEventId(purpose: string): string;
  /** Queue an event for the outbox in this transaction. */
  emit<T>(event: EmittedEvent<T>): void;
  /** The service's logger with this work's correlation id, origin id (`eventId`) and tier on every line (made on first use). */
  readonly logger: Logger;
}

/** Where `ctx.logger` writes when a context is made without a logger (handler unit tests, benches): nowhere. */
const UNLOGGED = createLogger('unlogged', 'silent');

/** The origin of the work a consumed event causes. */
export function originOf(event: InboundEvent<unknown>): EventOrigin {
  return {
    id: event.eventId,
    correlationId: event.correlationId,
    causationId: event.eventId,
    tier: event.tier,
    source: event.source,
    receivedAt: event.receivedAt,
    traceparent: event.traceparent,
  };
}

/**
 * The one place event metadata is built: an EventContext that collects what
 * is emitted into `sink` (shared by every context of one transaction) for the
 * outbox writer.
 */
export function eventContext(uow: UnitOfWork, origin: EventOrigin, sink: OutgoingEvent[], logger: Logger = UNLOGGED): EventContext {
  let child: Logger | undefined;
  return {
    uow,
    origin,
    get logger() {
      // The documented log fields (LogContext), so a line's ids read the same whoever wrote it.
      return (child ??= logger.child({ correlationId: origin.correlationId, eventId: origin.id, tier: origin.tier } satisfies LogContext));
    },
    deriveEventId: (purpose) => deriveEventId(origin.id, purpose),
    emit: (out) => {
      const eventId = out.eventId ?? (out.value as { eventId?: unknown })?.eventId;
      if (typeof eventId !== 'string' || !eventId) {
        throw new ClinmeshError('RUNTIME.EVENT_ID_MISSING', `an event emitted to ${out.topic} has no eventId (give one or put it in the value)`);
      }
      sink.push({
        topic: out.topic,
        key: out.key,
        value: out.value,
        meta: {
          eventId,
          correlationId: origin.correlationId,
          causationId: origin.causationId,
          traceparent: childTraceparent(origin.traceparent, eventId),
          tier: out.tier ?? origin.tier,
          source: origin.source,
          receivedAt: origin.receivedAt,
          eventType: out.eventType,
        },
      });
    },
  };
}
