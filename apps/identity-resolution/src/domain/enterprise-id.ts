import { hash } from 'node:crypto';

/**
 * Enterprise patient ids are opaque and derived from the first source record
 * that created the person, so a replay of the same record yields the same
 * EPID even before the index is consulted.
 */
export function enterpriseIdFor(sourcePatientKey: string): string {
  return `EP${hash('sha256', `epid:${sourcePatientKey}`, 'hex').slice(0, 24).toUpperCase()}`;
}
