import { TIERS, Stage, Tier, stageTopic } from '@clinmesh/topology';
import type { EventSchemaName, EventSchemaTypes } from '@clinmesh/schemas';
import type { UnitOfWork } from '../persistence/unit-of-work';
import type { EventContext } from '../publish/event-context';
import type { InboundEvent } from './inbound-event';

/** An application use case bound to a consumer: decode → handle → classify is the runtime's job. */
export type EventHandler<T> = (event: InboundEvent<T>, ctx: EventContext) => Promise<void>;

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
  readonly handle: EventHandler<unknown>;
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

interface TypedConsumerOptions<S extends EventSchemaName> {
  schema: S;
  handle: EventHandler<EventSchemaTypes[S]>;
  prepare?: (events: Array<InboundEvent<EventSchemaTypes[S]>>, uow: UnitOfWork) => Promise<void>;
  complete?: (uow: UnitOfWork) => Promise<void>;
}

/**
 * One consumer per tier of a pipeline stage (`clinical.<stage>.<tier>`), each
 * with its own offsets, lag and priority, so a backlog in one tier never
 * delays another. Ids are `<service>.<tier>` for the service's main stage (the
 * default), `<service>.<name>.<tier>` when `name` is given (a second stage).
 */
export function tieredConsumer<S extends EventSchemaName>(options: TypedConsumerOptions<S> & {
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
export function topicConsumer<S extends EventSchemaName>(options: TypedConsumerOptions<S> & {
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
 * record with `schema` as the reader schema, so the value has that type.
 */
function erase<S extends EventSchemaName>(options: TypedConsumerOptions<S>): Pick<ConsumerDefinition, 'handle' | 'prepare' | 'complete'> {
  return {
    handle: options.handle as EventHandler<unknown>,
    prepare: options.prepare as ConsumerDefinition['prepare'],
    complete: options.complete,
  };
}
