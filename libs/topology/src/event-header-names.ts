/**
 * Header names carried on every event (DESIGN.md "Events on the wire"): part of
 * the topic contract, so they live with the topology (AsyncAPI documents them).
 */
export const HEADER = {
  eventId: 'clinmesh-event-id',
  correlationId: 'clinmesh-correlation-id',
  causationId: 'clinmesh-causation-id',
  traceparent: 'traceparent',
  tier: 'clinmesh-tier',
  source: 'clinmesh-source',
  receivedAt: 'clinmesh-received-at',
  eventType: 'clinmesh-event-type',
} as const;
