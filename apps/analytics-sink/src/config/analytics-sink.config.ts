import { ClinmeshError } from '@clinmesh/errors';
import { TIERS, Tier, isTier } from '@clinmesh/topology';

/**
 * Which topics analytics-sink reads. `canonical`: clinical.canonical.<tier> (CanonicalEvent,
 * identified — authorised internal use only); `deidentified`: clinical.deidentified.<tier>
 * (RoutedEvent, HIPAA Safe Harbor view with a per-audience pseudonym — research use).
 */
export type AnalyticsSinkTopics = 'canonical' | 'deidentified';

/** analytics-sink's own settings (ANALYTICS_SINK_*), validated once at start with every problem listed. */
export interface AnalyticsSinkConfig {
  topics: AnalyticsSinkTopics;
  /** One consumer group per tier listed. */
  tiers: Tier[];
}

export const ANALYTICS_SINK_DEFAULTS: AnalyticsSinkConfig = { topics: 'canonical', tiers: ['stat', 'urgent', 'routine', 'bulk'] };

export function loadAnalyticsSinkConfig(env: (name: string) => string | undefined): AnalyticsSinkConfig {
  const problems: string[] = [];
  const topics = env('TOPICS') ?? ANALYTICS_SINK_DEFAULTS.topics;
  if (topics !== 'canonical' && topics !== 'deidentified') problems.push(`ANALYTICS_SINK_TOPICS must be canonical or deidentified (got "${topics}")`);
  const rawTiers = env('TIERS');
  const tiers = rawTiers === undefined ? ANALYTICS_SINK_DEFAULTS.tiers : rawTiers.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = tiers.filter((t) => !isTier(t));
  if (!tiers.length || unknown.length) problems.push(`ANALYTICS_SINK_TIERS must list tiers among ${TIERS.join(', ')} (got "${rawTiers}")`);
  if (problems.length) throw new ClinmeshError('CONFIG.INVALID', `invalid analytics-sink configuration: ${problems.join('; ')}`, { details: { problems } });
  return { topics: topics as AnalyticsSinkTopics, tiers: [...new Set(tiers)] as Tier[] };
}
