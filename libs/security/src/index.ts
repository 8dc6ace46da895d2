export { AccessTokens, Principal, ClientClaims, SCOPES, ALL_SCOPES } from './access-token';
export { AuditTrail, AuditEntry, AuditTrailTable1732200000001 } from './audit-trail';
export { sourcePatientKey } from './patient-key';
