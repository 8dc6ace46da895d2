import { SettingsReader } from '@clinmesh/service-kit';
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
  const s = new SettingsReader('IDENTITY_RESOLUTION', env);
  // Thresholds are log2 Bayes factors: any finite number; unset = the empi default.
  const threshold = (name: string) => (s.raw(name) === undefined ? undefined : s.number(name, NaN, { min: -Infinity }));
  const matchUpper = threshold('MATCH_UPPER');
  const matchLower = threshold('MATCH_LOWER');
  if (matchUpper !== undefined && matchLower !== undefined && matchLower > matchUpper) {
    s.problem(`${s.variable('MATCH_LOWER')} (${matchLower}) must not exceed ${s.variable('MATCH_UPPER')} (${matchUpper})`);
  }
  const chunkSize = s.int('CHUNK_SIZE', DEFAULT_IDENTITY_CHUNK_SIZE, { min: 1, max: 1000 });
  s.assertValid('identity-resolution');
  return { matchUpper, matchLower, chunkSize };
}

/** The process's MasterPatientIndex with the configured thresholds (built once, by the module's provider). */
export function createMasterPatientIndex(config: IdentityResolutionConfig): MasterPatientIndex {
  if (config.matchUpper === undefined && config.matchLower === undefined) return new MasterPatientIndex();
  const base = new MasterPatientIndex().config.thresholds;
  const upper = config.matchUpper ?? base.upper;
  return new MasterPatientIndex({ thresholds: { upper, lower: config.matchLower ?? Math.min(upper, base.lower) } });
}
