export const ACCEPT_HL7 = Symbol('ACCEPT_HL7');
export const ACCEPT_FHIR = Symbol('ACCEPT_FHIR');
export const MESSAGES = Symbol('MESSAGES');
export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
export const INGEST_METRICS = Symbol('INGEST_METRICS');
export const INTAKE_GATE = Symbol('INTAKE_GATE');
export const BULK_INTAKE_PACER = Symbol('BULK_INTAKE_PACER');
