import { ClinmeshError } from '@clinmesh/errors';
import { MasterPatientIndex } from './application/master-patient-index';

let shared: MasterPatientIndex | undefined;

/**
 * The one MasterPatientIndex of the process (consumers and HTTP share it).
 * Thresholds can be set with IDENTITY_RESOLUTION_MATCH_UPPER / _MATCH_LOWER
 * (log2 match weights; defaults 12 / 4 from @clinmesh/empi).
 */
export function masterPatientIndex(env: NodeJS.ProcessEnv = process.env): MasterPatientIndex {
  if (shared) return shared;
  const num = (name: string): number | undefined => {
    const raw = env[`IDENTITY_RESOLUTION_${name}`];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new ClinmeshError('CONFIG.INVALID', `IDENTITY_RESOLUTION_${name} must be a number`);
    return n;
  };
  const upper = num('MATCH_UPPER');
  const lower = num('MATCH_LOWER');
  const base = new MasterPatientIndex().config.thresholds;
  shared = new MasterPatientIndex(upper === undefined && lower === undefined ? {} : { thresholds: { upper: upper ?? base.upper, lower: lower ?? base.lower } });
  return shared;
}
