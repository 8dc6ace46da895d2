import { normalizeName } from '../record/person-record.normalizer';
import { US_FEMALE_GIVEN_PERCENT, US_MALE_GIVEN_PERCENT, US_SURNAME_PERCENT } from './us-name-frequency.data';

/**
 * How common each given and family name is: the share of persons carrying it.
 * Term-frequency adjustment turns it into evidence: two records agreeing on a
 * name as common as "smith" (≈1 %) say much less than two agreeing on "okafor".
 *
 * A snapshot is immutable and versioned. It is built from the index now and
 * then (never updated per record: no hot rows), and every explanation names the
 * version it was scored with.
 */
export interface NameFrequencySnapshot {
  version: string;
  given: ReadonlyMap<string, number>;
  family: ReadonlyMap<string, number>;
  /** Share assumed for a name the snapshot does not hold (the long tail). */
  givenDefault: number;
  familyDefault: number;
  /** Records the snapshot was counted from (absent for the seed): the size of the index the thresholds are scaled to. */
  records?: number;
}

export type NameField = 'given' | 'family';

export function nameFrequency(snapshot: NameFrequencySnapshot, field: NameField, normalizedName: string): number {
  const table = field === 'given' ? snapshot.given : snapshot.family;
  return table.get(normalizedName) ?? (field === 'given' ? snapshot.givenDefault : snapshot.familyDefault);
}

function parsePercentList(text: string, into: Map<string, number>, scale: number): void {
  for (const entry of text.split(' ')) {
    const colon = entry.indexOf(':');
    const name = normalizeName(entry.slice(0, colon));
    if (!name) continue;
    const share = (Number(entry.slice(colon + 1)) / 100) * scale;
    into.set(name, (into.get(name) ?? 0) + share);
  }
}

let usSeed: NameFrequencySnapshot | undefined;

/**
 * Cold-start snapshot from the US Census 1990 name files (see us-name-frequency.data.ts).
 * Given names: female and male lists weighted ½ each. Names outside the lists get the
 * share of the last listed name: the tail is long and flat.
 */
export function usNameFrequencySeed(): NameFrequencySnapshot {
  if (usSeed) return usSeed;
  const given = new Map<string, number>();
  parsePercentList(US_FEMALE_GIVEN_PERCENT, given, 0.5);
  parsePercentList(US_MALE_GIVEN_PERCENT, given, 0.5);
  const family = new Map<string, number>();
  parsePercentList(US_SURNAME_PERCENT, family, 1);
  usSeed = { version: 'us-census-1990', given, family, givenDefault: 0.00001, familyDefault: 0.000005 };
  return usSeed;
}

export interface NameCounts {
  /** Records counted. */
  total: number;
  given: ReadonlyMap<string, number>;
  family: ReadonlyMap<string, number>;
}

/** Counts normalised given and family names of records (what an index snapshot is built from). */
export function countNames(records: Iterable<{ givenName?: string; familyName?: string }>): NameCounts {
  const given = new Map<string, number>();
  const family = new Map<string, number>();
  let total = 0;
  for (const r of records) {
    total++;
    const g = normalizeName(r.givenName);
    const f = normalizeName(r.familyName);
    if (g) given.set(g, (given.get(g) ?? 0) + 1);
    if (f) family.set(f, (family.get(f) ?? 0) + 1);
  }
  return { total, given, family };
}

/**
 * A snapshot from the index's own counts, smoothed towards the prior (the seed):
 * share = (count + k·prior) / (total + k). With a small index the prior dominates;
 * with a large one the local population does (a hospital in Miami is not the US mean).
 */
export function frequencySnapshotFromCounts(counts: NameCounts, prior: NameFrequencySnapshot, version: string, priorWeight = 2000): NameFrequencySnapshot {
  const blend = (field: NameField, table: ReadonlyMap<string, number>): Map<string, number> => {
    const out = new Map<string, number>();
    const priorTable = field === 'given' ? prior.given : prior.family;
    for (const [name, share] of priorTable) out.set(name, (priorWeight * share) / (counts.total + priorWeight));
    for (const [name, count] of table) {
      const p = nameFrequency(prior, field, name);
      out.set(name, (count + priorWeight * p) / (counts.total + priorWeight));
    }
    return out;
  };
  const scaleDefault = (d: number) => (priorWeight * d) / (counts.total + priorWeight) + 1 / (counts.total + priorWeight) / 2;
  return {
    version,
    records: counts.total,
    given: blend('given', counts.given),
    family: blend('family', counts.family),
    givenDefault: Math.min(scaleDefault(prior.givenDefault), prior.givenDefault * 4),
    familyDefault: Math.min(scaleDefault(prior.familyDefault), prior.familyDefault * 4),
  };
}
