/** Injection tokens for the infrastructure the kit provides to every app module. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const EVENT_RUNTIME = Symbol('EVENT_RUNTIME');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const ACCESS_TOKENS = Symbol('ACCESS_TOKENS');
export const AUDIT_TRAIL = Symbol('AUDIT_TRAIL');
export const RUNTIME_METRICS = Symbol('RUNTIME_METRICS');
export const LOGGER = Symbol('LOGGER');
/** The service's own start-up: ready only once every listener of afterStart (ingest's MLLP) is up. */
export const SERVICE_STARTUP = Symbol('SERVICE_STARTUP');
