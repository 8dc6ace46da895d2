export const ACCEPT_HL7 = Symbol('ACCEPT_HL7');
export const ACCEPT_FHIR = Symbol('ACCEPT_FHIR');
export const MESSAGES = Symbol('MESSAGES');
