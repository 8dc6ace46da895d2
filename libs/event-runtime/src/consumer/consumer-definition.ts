import { TIERS, Stage, Tier, stageTopic } from '@clinmesh/topology';
import type { EventSchemaName, EventSchemaTypes } from '@clinmesh/schemas';
import type { UnitOfWork } from '../persistence/unit-of-work';
import type { EventContext } from '../publish/event-context';
import type { InboundEvent } from './inbound-event';

/**
 * An application use case bound to a consumer: decode → handle → classify is the runtime's job.
 * `derived` is what the definition's `derive` made of the event before the transaction (undefined without one).
 */
export type EventHandler<T, D = undefined> = (event: InboundEvent<T>, ctx: EventContext, derived: D) => Promise<void>;

/**
 * Pure work on one event that needs no database — mapping a message to another model, say: run as the
 * record is decoded, before and outside its transaction, so it overlaps the transaction the lane has in
 * flight instead of holding one open. A throw is the event's failure, handled as a handler's would be
 * (the chunk rolls back, the record is isolated, retried if retriable, else dead-lettered).
 */
export type EventDeriver<T, D> = (event: InboundEvent<T>) => D;

/**
 * What the runtime runs as one consumer (id `<service>.<name>`: own stored
 * offsets, inbox, dead letters, replay and metrics), hosted on a consumer
 * lane (one kafkajs consumer shared by several definitions, see lanes.ts). Built only by
 * `tieredConsumer` and `topicConsumer`, which tie the handler's event type to
 * the reader schema, so no service ever casts its handler.
 */
export interface ConsumerDefinition {
  /** Unique within the service; the consumer's id is `<service>.<name>`. */
  readonly name: string;
  readonly topics: readonly string[];
  /** Reader schema: every record is decoded (and resolved from its writer schema) to this. */
  readonly schema: EventSchemaName;
  /** Priority class: lower tiers yield while stat or urgent has backlog; also the metrics label. */
  readonly tier: Tier;
  /** Records per transaction (default: the runtime's chunk size; stat smaller). */
  readonly chunkSize?: number;
  /** Kafka fetch max wait for this consumer (default: the runtime's per-tier setting). */
  readonly maxWaitTimeMs?: number;
  readonly handle: (event: InboundEvent<unknown>, ctx: EventContext, derived?: unknown) => Promise<void>;
  /** Before the transaction, per event (see EventDeriver); its result is `handle`'s third argument. */
  readonly derive?: EventDeriver<unknown, unknown>;
  /**
   * Runs once per transaction before the handlers, with every event about to be handled in it
   * (e.g. to take all the chunk's locks in one global order, so chunks cannot deadlock).
   */
  readonly prepare?: (events: Array<InboundEvent<unknown>>, uow: UnitOfWork) => Promise<void>;
  /**
   * Runs once per transaction after the handlers, before the inbox rows and the commit: writes the
   * handlers buffered for the whole chunk go to the database here as multi-row statements.
   */
  readonly complete?: (uow: UnitOfWork) => Promise<void>;
}

interface TypedConsumerOptions<S extends EventSchemaName, D> {
  schema: S;
  derive?: EventDeriver<EventSchemaTypes[S], D>;
  handle: EventHandler<EventSchemaTypes[S], D>;
  prepare?: (events: Array<InboundEvent<EventSchemaTypes[S]>>, uow: UnitOfWork) => Promise<void>;
  complete?: (uow: UnitOfWork) => Promise<void>;
}

/**
 * One consumer per tier of a pipeline stage (`clinical.<stage>.<tier>`), each
 * with its own offsets, lag and priority, so a backlog in one tier never
 * delays another. Ids are `<service>.<tier>` for the service's main stage (the
 * default), `<service>.<name>.<tier>` when `name` is given (a second stage).
 */
export function tieredConsumer<S extends EventSchemaName, D = undefined>(options: TypedConsumerOptions<S, D> & {
  stage: Stage;
  /** Distinguishes a second tiered consumer in one service (e.g. notifier: routed and tasks). */
  name?: string;
  tiers?: readonly Tier[];
  chunkSize?: number | ((tier: Tier) => number | undefined);
  maxWaitTimeMs?: (tier: Tier) => number | undefined;
}): ConsumerDefinition[] {
  return (options.tiers ?? TIERS).map((tier) => ({
    name: options.name ? `${options.name}.${tier}` : tier,
    topics: [stageTopic(options.stage, tier)],
    schema: options.schema,
    tier,
    chunkSize: typeof options.chunkSize === 'function' ? options.chunkSize(tier) : options.chunkSize,
    maxWaitTimeMs: options.maxWaitTimeMs?.(tier),
    ...erase(options),
  }));
}

/**
 * One consumer for a single topic (`clinical.identity.events`,
 * `clinical.policy.events`, `clinmesh.operations.events`, ...), with the same
 * inbox, offset, dead-letter and replay guarantees as a tier consumer.
 */
export function topicConsumer<S extends EventSchemaName, D = undefined>(options: TypedConsumerOptions<S, D> & {
  name: string;
  topic: string;
  /** Priority class (default routine). */
  tier?: Tier;
  chunkSize?: number;
  maxWaitTimeMs?: number;
}): ConsumerDefinition {
  return {
    name: options.name,
    topics: [options.topic],
    schema: options.schema,
    tier: options.tier ?? 'routine',
    chunkSize: options.chunkSize,
    maxWaitTimeMs: options.maxWaitTimeMs,
    ...erase(options),
  };
}

/**
 * The one place the handler's type is widened: the runtime decodes every
 * record with `schema` as the reader schema, so the value has that type, and
 * hands `handle` what `derive` returned for that record.
 */
function erase<S extends EventSchemaName, D>(options: TypedConsumerOptions<S, D>): Pick<ConsumerDefinition, 'handle' | 'derive' | 'prepare' | 'complete'> {
  return {
    handle: options.handle as ConsumerDefinition['handle'],
    derive: options.derive as ConsumerDefinition['derive'],
    prepare: options.prepare as ConsumerDefinition['prepare'],
    complete: options.complete,
  };
}
