import { IHeaders } from 'kafkajs';
import { HEADER, Tier, isTier } from '@clinmesh/topology';

export { HEADER };

export interface EventMetadata {
  eventId: string;
  correlationId: string;
  causationId?: string;
  traceparent?: string;
  tier?: Tier;
  source?: string;
  /** Epoch ms of the original message's receipt at ingest (end-to-end latency origin). */
  receivedAt?: number;
  eventType?: string;
}

export function headersToRecord(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined || v === null) continue;
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

export function readMetadata(headers: Record<string, string>): Partial<EventMetadata> {
  const receivedAt = Number(headers[HEADER.receivedAt]);
  const tier = headers[HEADER.tier];
  return {
    eventId: headers[HEADER.eventId],
    correlationId: headers[HEADER.correlationId],
    causationId: headers[HEADER.causationId],
    traceparent: headers[HEADER.traceparent],
    tier: isTier(tier) ? tier : undefined,
    source: headers[HEADER.source],
    receivedAt: Number.isFinite(receivedAt) && receivedAt > 0 ? receivedAt : undefined,
    eventType: headers[HEADER.eventType],
  };
}

/** `defaultEventType` names the event when its metadata does not (the outbox passes the topic's schema name). */
export function metadataToHeaders(meta: EventMetadata, defaultEventType?: string): Record<string, string> {
  const out: Record<string, string> = { [HEADER.eventId]: meta.eventId, [HEADER.correlationId]: meta.correlationId };
  if (meta.causationId) out[HEADER.causationId] = meta.causationId;
  if (meta.traceparent) out[HEADER.traceparent] = meta.traceparent;
  if (meta.tier) out[HEADER.tier] = meta.tier;
  if (meta.source) out[HEADER.source] = meta.source;
  if (meta.receivedAt) out[HEADER.receivedAt] = String(meta.receivedAt);
  const eventType = meta.eventType || defaultEventType;
  if (eventType) out[HEADER.eventType] = eventType;
  return out;
}
