import { ClinmeshError } from '@clinmesh/errors';
import { MasterPatientIndex } from '../application/master-patient-index';

/** Identity-resolution's own settings (IDENTITY_RESOLUTION_*), validated once with every problem listed. */
export interface IdentityResolutionConfig {
  /**
   * Match thresholds (log2 Bayes factors); undefined = the defaults of @clinmesh/empi. Only one given:
   * the other keeps its default, the lower never above the upper.
   */
  matchUpper?: number;
  matchLower?: number;
  /**
   * Ingested events per matching transaction. Matching holds the chunk's blocking-key locks until
   * commit: modest chunks keep concurrent partitions and tiers from queueing long behind one another.
   */
  chunkSize: number;
}

export const DEFAULT_IDENTITY_CHUNK_SIZE = 50;

export function loadIdentityResolutionConfig(env: (name: string) => string | undefined): IdentityResolutionConfig {
  const problems: string[] = [];
  const num = (name: string, valid: (n: number) => boolean, rule: string): number | undefined => {
    const raw = env(name);
    if (raw === undefined || raw.trim() === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || !valid(n)) {
      problems.push(`IDENTITY_RESOLUTION_${name} must be ${rule} (got ${JSON.stringify(raw)})`);
      return undefined;
    }
    return n;
  };
  const matchUpper = num('MATCH_UPPER', () => true, 'a number');
  const matchLower = num('MATCH_LOWER', () => true, 'a number');
  if (matchUpper !== undefined && matchLower !== undefined && matchLower > matchUpper) {
    problems.push(`IDENTITY_RESOLUTION_MATCH_LOWER (${matchLower}) must not exceed IDENTITY_RESOLUTION_MATCH_UPPER (${matchUpper})`);
  }
  const chunkSize = num('CHUNK_SIZE', (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'an integer from 1 to 1000') ?? DEFAULT_IDENTITY_CHUNK_SIZE;
  if (problems.length) throw new ClinmeshError('CONFIG.INVALID', `invalid identity-resolution configuration: ${problems.join('; ')}`);
  return { matchUpper, matchLower, chunkSize };
}

/** The process's MasterPatientIndex with the configured thresholds (built once, by the module's provider). */
export function createMasterPatientIndex(config: IdentityResolutionConfig): MasterPatientIndex {
  if (config.matchUpper === undefined && config.matchLower === undefined) return new MasterPatientIndex();
  const base = new MasterPatientIndex().config.thresholds;
  const upper = config.matchUpper ?? base.upper;
  return new MasterPatientIndex({ thresholds: { upper, lower: config.matchLower ?? Math.min(upper, base.lower) } });
}
