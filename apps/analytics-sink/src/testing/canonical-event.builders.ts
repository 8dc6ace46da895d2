import type { InboundEvent } from '@clinmesh/event-runtime';
import type { CanonicalEvent, CanonicalRecords, IdentityEvent, Observation } from '@clinmesh/schemas';

// Typed event builders. Their defaults were derived from schemas/CanonicalEvent.avsc when the
// consumer was generated; the compiler checks them against the generated types.

export const EMPTY_RECORDS: CanonicalRecords = {
  patients: [],
  encounters: [],
  observations: [],
  diagnosticReports: [],
  serviceRequests: [],
  medicationRequests: [],
  medicationAdministrations: [],
  immunizations: [],
  appointments: [],
  conditions: [],
  allergies: [],
  documents: [],
  procedures: [],
  coverages: []
};

const DEFAULT_OBSERVATION: Observation = {
  id: '',
  changeType: 'CREATE',
  correction: false,
  patientId: null,
  provenance: {
    sourceSystem: '',
    messageId: '',
    sourceFormat: '',
    sourceMessageType: '',
    mappingVersion: '',
    sourceFields: []
  },
  status: null,
  code: {
    codings: [],
    text: null
  },
  valueType: null,
  valueQuantity: null,
  valueString: null,
  valueCode: null,
  valueTime: null,
  convertedValues: [],
  referenceRange: null,
  interpretation: [],
  effective: null,
  issued: null,
  reportId: null,
  orderId: null,
  subId: null,
  partOfId: null,
  partOfType: null
};

const DEFAULT_CANONICAL_EVENT: Omit<CanonicalEvent, 'records'> = {
  eventId: '',
  correlationId: '',
  causationId: '',
  epid: '',
  tier: 'stat',
  changeType: 'CREATE',
  occurredAt: null,
  recordedAt: 0,
  receivedAt: 0,
  source: {
    system: '',
    facility: '',
    channel: 'MLLP'
  },
  resourceType: '',
  canonicalId: '',
  document: '',
  provenance: {
    sourceSystem: '',
    messageId: '',
    sourceFormat: '',
    sourceMessageType: '',
    mappingVersion: '',
    sourceFields: []
  },
  unmappedCodes: [],
  issues: [],
  supersedesEventId: null
};

/** A Observation record (every field present); override what the test is about. */
export function observationRecord(overrides: Partial<Observation> = {}): Observation {
  return {
    ...DEFAULT_OBSERVATION,
    id: 'rec-1',
    ...overrides,
  };
}

/** A canonical event carrying the given Observation records (or any records: `withRecords`). */
export function canonicalEvent(records: Observation[], overrides: Partial<CanonicalEvent> = {}): CanonicalEvent {
  return withRecords({ observations: records }, overrides);
}

/** A canonical event carrying the given records of any family. */
export function withRecords(records: Partial<CanonicalRecords>, overrides: Partial<CanonicalEvent> = {}): CanonicalEvent {
  const first = Object.values(records).find((list) => list?.length)?.[0] as { id: string } | undefined;
  return {
    ...DEFAULT_CANONICAL_EVENT,
    eventId: 'evt-1',
    correlationId: 'msg-1',
    causationId: 'idf-1',
    epid: 'EPID-1',
    tier: 'routine',
    changeType: 'CREATE',
    recordedAt: Date.UTC(2024, 2, 1, 10, 15),
    receivedAt: Date.UTC(2024, 2, 1, 10, 15, 1),
    resourceType: 'Observation',
    canonicalId: first?.id ?? 'rec-1',
    records: { ...EMPTY_RECORDS, ...records },
    ...overrides,
  };
}

/** A glucose result (LOINC 2345-7, mg/dL) taken at `at`. */
export function glucose(id: string, value: number, at: number, overrides: Partial<Observation> = {}): Observation {
  return observationRecord({
    id,
    status: 'final',
    code: { codings: [{ system: 'http://loinc.org', code: '2345-7', display: 'Glucose', mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null }], text: 'Glucose' },
    valueType: 'NM',
    valueQuantity: { value, comparator: null, unit: 'mg/dl', ucum: 'mg/dL' },
    effective: { instant: at, original: new Date(at).toISOString(), offset: '+00:00', precision: 'SECOND', offsetSource: 'SOURCE', date: null },
    ...overrides,
  });
}

/** An identity change (merge, unmerge, link). */
export function identityEvent(overrides: Partial<IdentityEvent> = {}): IdentityEvent {
  return { eventId: 'idn-1', correlationId: 'msg-9', type: 'PERSONS_MERGED', epid: 'EPID-SURVIVOR', otherEpid: 'EPID-MERGED', recordKey: 'key-1', method: 'manual', score: null, at: Date.UTC(2024, 2, 2), ...overrides };
}

/** The event as a consumer receives it from clinical.canonical.<tier>. */
export function inbound(value: CanonicalEvent, offset = 0): InboundEvent<CanonicalEvent> {
  return {
    eventId: value.eventId, correlationId: value.correlationId, causationId: value.causationId, tier: value.tier, topic: `clinical.canonical.${value.tier}`,
    partition: 0, offset, key: value.epid, headers: {}, schemaId: 1, value,
  };
}
