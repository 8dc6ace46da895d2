import { Tier } from '@clinmesh/topology';

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
