import { InvalidMatchConfigError } from '../empi.errors';

/** The comparisons of the Fellegi–Sunter model, in the order comparison vectors hold them. */
export const COMPARISON_LEVELS = {
  givenName: ['exact', 'nickname', 'initial', 'jw>=0.92', 'phonetic', 'jw>=0.80', 'else'],
  familyName: ['exact', 'jw>=0.92', 'phonetic', 'jw>=0.80', 'else'],
  middleName: ['exact', 'initial', 'jw>=0.88', 'else'],
  birthDate: ['exact', 'day-month-swapped', 'one-digit', 'year-only', 'else'],
  sex: ['exact', 'else'],
  streetNumber: ['exact', 'else'],
  street: ['exact', 'jw>=0.88', 'else'],
  line2: ['exact', 'jw>=0.88', 'else'],
  suburb: ['exact', 'jw>=0.88', 'else'],
  postcode: ['exact', 'one-digit', 'else'],
  state: ['exact', 'else'],
  phone: ['exact', 'one-digit', 'else'],
  nationalId: ['exact', 'one-digit', 'last-4', 'else'],
} as const;

export type ComparisonName = keyof typeof COMPARISON_LEVELS;
export type LevelLabel<C extends ComparisonName = ComparisonName> = (typeof COMPARISON_LEVELS)[C][number];
export const COMPARISON_NAMES = Object.keys(COMPARISON_LEVELS) as ComparisonName[];

/** m = P(level | same person), u = P(level | different persons). */
export interface LevelProbabilities {
  m: number;
  u: number;
}

export type ComparisonParameters = { [C in ComparisonName]: { [L in LevelLabel<C>]: LevelProbabilities } };

/** Selects identifiers by assigning authority and/or type; an empty selector matches nothing. */
export interface IdentifierSelector {
  system?: string;
  type?: string;
}

export interface MatchConfig {
  /** m/u per comparison level; weight = log2(m/u). A missing value on either side is weight 0. */
  comparisons: ComparisonParameters;
  /**
   * Decision thresholds on the total match weight (sum of log2 Bayes factors, no prior):
   * score ≥ upper → link, lower ≤ score < upper → provisional person + review, else new person.
   */
  thresholds: { upper: number; lower: number };
  /** Identifier types that name one record of one source (same system+value ⇒ same record, same person). */
  recordIdentifierTypes: string[];
  /** Identifiers that link deterministically only when the date of birth also agrees exactly. */
  trustedIdentifiers: IdentifierSelector[];
  /** Identifiers compared probabilistically in the `nationalId` comparison (exact / one digit / last 4). */
  comparedIdentifiers: IdentifierSelector[];
  /**
   * Thresholds are Bayes factors; the odds that a record has a true match among N indexed persons
   * fall as N grows, so both thresholds rise by log2(N / thresholdReferenceSize) bits once the
   * index (as counted by the frequency snapshot in use) is larger than the reference. The
   * explanation shows the thresholds in force.
   */
  thresholdReferenceSize: number;
  /** Most candidate records fetched per incoming record (ranked by shared blocking-key evidence). */
  candidateLimit: number;
  /**
   * Least blocking-key evidence a stored record needs to be a candidate (`keyEvidence`: an
   * identifying key such as an SSN or phone counts 2, any other key 1). With 2, a record sharing a
   * single weak key — only a birth date, only a surname code and birth year — is not read: in a
   * 100k index such strangers were 98% of the candidates read and scored, while a true duplicate
   * shares two keys or one identifying key (FEBRL and the US-style sets: F1 within 0.001).
   */
  candidateMinEvidence: number;
  /**
   * Caps on the summed positive weight of correlated comparisons. Address
   * parts and a landline say "same dwelling" once, not six times; without a
   * cap a spouse or sibling at the same address outscores name and birth
   * date disagreeing (conditional independence does not hold there).
   */
  weightCaps: WeightCap[];
  /**
   * Term-frequency adjustment of exact name agreement: the exact level's u becomes the
   * share of persons carrying that name (from the frequency snapshot), floored at
   * `minimumU` so one rare name cannot outweigh everything else.
   */
  termFrequency: { fields: Array<'givenName' | 'familyName'>; minimumU: number };
  /** Twin / household rules (see identity-rules.ts). Weights are log2 Bayes factors added to the score. */
  householdRules: {
    /** Same family name and birth date (or address), given name disagreeing with nothing to explain it. */
    givenConflictWeight: number;
    /** Same family name and birth date (or address), recorded sex disagreeing. */
    sexConflictWeight: number;
    /** Same family name and address, birth date disagreeing beyond a keying error (parent/child, Jr/Sr, spouse). */
    relativeWeight: number;
    /** Neither birth date, SSN nor phone agrees: namesakes share names, households share addresses. */
    noAnchorWeight: number;
    /** Two of given name, family name and birth date disagree outright (no SSN agreeing). */
    coreConflictWeight: number;
  };
  /**
   * No chaining: a person is linkable only when no record of it scores below this
   * against the incoming record (the record must fit the person as a whole).
   */
  personFloor: number;
  /** Most records of one candidate person compared (the newest). */
  personRecordLimit: number;
  /** Version label of these parameters (shown in every explanation). */
  version: string;
}

export interface WeightCap {
  name: string;
  fields: ComparisonName[];
  /** Upper bound (log2) on the group's total. */
  max: number;
  /**
   * Lower bound (log2) on the group's total: a move changes every address field and the phone at
   * once — one event (about one duplicate in seven in US registrations), not six independent
   * disagreements. Absent: negative totals are left alone.
   */
  min?: number;
  /**
   * The group's total may be positive only when one of these fields agrees (any level but the
   * last): a shared city, ZIP and state without the street or phone is a neighbourhood, not a
   * dwelling — in a US index of 100k persons thousands share a ZIP.
   */
  positiveOnlyWith?: ComparisonName[];
}

const P = (m: number, u: number): LevelProbabilities => ({ m, u });

/**
 * Default parameters. The m/u values are an expectation-maximisation estimate
 * (u from 200k random pairs, m and λ by EM over blocked candidate pairs,
 * `estimateParameters`) on FEBRL dataset1, rounded, then frozen; dataset2 was
 * never used for fitting. Comparisons FEBRL lacks (middle name, sex, phone)
 * keep hand-set values from typical registry error rates. Thresholds were set
 * on dataset1 (see README) and are in log2 units.
 */
export const DEFAULT_MATCH_CONFIG: MatchConfig = {
  comparisons: {
    // EM (dataset1) except where marked "prior": levels FEBRL never generates (nicknames, swapped
    // day/month, partial dates, last-4 ids) and fields it lacks keep hand-set registry values,
    // because EM on data without them would learn a meaningless (negative) weight.
    givenName: { exact: P(0.785, 0.0047), nickname: P(0.02, 0.0005) /* prior */, initial: P(0.005, 0.001) /* prior */, 'jw>=0.92': P(0.0999, 0.00111), phonetic: P(0.00855, 0.00309), 'jw>=0.80': P(0.0107, 0.00445), else: P(0.0956, 0.986) },
    familyName: { exact: P(0.748, 0.00361), 'jw>=0.92': P(0.17, 0.000617), phonetic: P(0.00209, 0.00104), 'jw>=0.80': P(0.0226, 0.0022), else: P(0.0573, 0.993) },
    middleName: { exact: P(0.8, 0.01), initial: P(0.1, 0.05), 'jw>=0.88': P(0.05, 0.01), else: P(0.05, 0.93) } /* prior */,
    birthDate: { exact: P(0.936, 0.000914), 'day-month-swapped': P(0.01, 0.0001) /* prior */, 'one-digit': P(0.0129, 0.001), 'year-only': P(0.02, 0.01) /* prior */, else: P(0.0508, 0.989) },
    sex: { exact: P(0.97, 0.5), else: P(0.03, 0.5) } /* prior */,
    streetNumber: { exact: P(0.846, 0.0148), else: P(0.154, 0.985) },
    street: { exact: P(0.679, 0.000916), 'jw>=0.88': P(0.292, 0.0013), else: P(0.0292, 0.998) },
    line2: { exact: P(0.634, 0.00124), 'jw>=0.88': P(0.359, 0.00107), else: P(0.00748, 0.998) },
    suburb: { exact: P(0.722, 0.00147), 'jw>=0.88': P(0.215, 0.000934), else: P(0.0636, 0.998) },
    postcode: { exact: P(0.832, 0.00176), 'one-digit': P(0.156, 0.0134), else: P(0.0121, 0.985) },
    state: { exact: P(0.963, 0.236), else: P(0.0368, 0.764) },
    phone: { exact: P(0.85, 0.0001), 'one-digit': P(0.08, 0.0005), else: P(0.07, 0.9994) } /* prior */,
    nationalId: { exact: P(0.9, 0.000815), 'one-digit': P(0.0541, 0.00004), 'last-4': P(0.01, 0.0001) /* prior */, else: P(0.046, 0.999) },
  },
  thresholds: { upper: 12, lower: 4 },
  recordIdentifierTypes: ['MR'],
  trustedIdentifiers: [{ type: 'SS' }, { type: 'NI' }],
  comparedIdentifiers: [{ type: 'SS' }, { type: 'NI' }],
  candidateLimit: 200,
  candidateMinEvidence: 2,
  thresholdReferenceSize: 5000,
  weightCaps: [{ name: 'household', fields: ['streetNumber', 'street', 'line2', 'suburb', 'postcode', 'state', 'phone'], max: 10, min: -5, positiveOnlyWith: ['street', 'line2', 'phone'] }],
  termFrequency: { fields: ['givenName', 'familyName'], minimumU: 0.0002 },
  householdRules: { givenConflictWeight: -25, sexConflictWeight: -14, relativeWeight: -12, noAnchorWeight: -6, coreConflictWeight: -10 },
  personFloor: 0,
  personRecordLimit: 50,
  version: 'default-febrl1-em+priors-v2',
};

/** Fills gaps of a partial config from the defaults (deep for comparisons) and validates. */
export function resolveMatchConfig(partial: Partial<MatchConfig> = {}): MatchConfig {
  const comparisons = { ...DEFAULT_MATCH_CONFIG.comparisons } as Record<string, Record<string, LevelProbabilities>>;
  for (const [name, levels] of Object.entries(partial.comparisons ?? {})) {
    comparisons[name] = { ...comparisons[name], ...(levels as Record<string, LevelProbabilities>) };
  }
  const config: MatchConfig = {
    ...DEFAULT_MATCH_CONFIG,
    ...partial,
    comparisons: comparisons as ComparisonParameters,
    thresholds: { ...DEFAULT_MATCH_CONFIG.thresholds, ...partial.thresholds },
    termFrequency: { ...DEFAULT_MATCH_CONFIG.termFrequency, ...partial.termFrequency },
    householdRules: { ...DEFAULT_MATCH_CONFIG.householdRules, ...partial.householdRules },
  };
  validateMatchConfig(config);
  return config;
}

export function validateMatchConfig(config: MatchConfig): void {
  for (const name of COMPARISON_NAMES) {
    const levels = config.comparisons[name] as Record<string, LevelProbabilities> | undefined;
    if (!levels) throw new InvalidMatchConfigError(`comparison ${name} has no parameters`, { comparison: name });
    for (const label of COMPARISON_LEVELS[name]) {
      const p = levels[label];
      if (!p) throw new InvalidMatchConfigError(`comparison ${name} lacks level ${label}`, { comparison: name, level: label });
      for (const key of ['m', 'u'] as const) {
        if (!(p[key] > 0 && p[key] <= 1)) {
          throw new InvalidMatchConfigError(`${name}.${label}.${key} must be in (0,1], got ${p[key]}`, { comparison: name, level: label });
        }
      }
    }
  }
  if (!(config.thresholds.lower <= config.thresholds.upper)) {
    throw new InvalidMatchConfigError('thresholds.lower must not exceed thresholds.upper', { thresholds: config.thresholds });
  }
  if (!(config.candidateLimit >= 1)) throw new InvalidMatchConfigError('candidateLimit must be ≥ 1');
  if (!(Number.isInteger(config.candidateMinEvidence) && config.candidateMinEvidence >= 1)) throw new InvalidMatchConfigError('candidateMinEvidence must be an integer ≥ 1');
  const capped = new Set<string>();
  for (const cap of config.weightCaps) {
    for (const field of cap.fields) {
      if (!COMPARISON_NAMES.includes(field)) throw new InvalidMatchConfigError(`weight cap ${cap.name} names unknown comparison ${field}`);
      if (capped.has(field)) throw new InvalidMatchConfigError(`comparison ${field} is in more than one weight cap`);
      capped.add(field);
    }
  }
}

/** log2(m/u): the evidence one comparison level contributes. */
export function matchWeight(p: LevelProbabilities): number {
  return Math.log2(p.m / p.u);
}

export function identifierSelected(id: { system: string; type?: string }, selectors: readonly IdentifierSelector[]): boolean {
  return selectors.some(
    (s) => (s.system !== undefined || s.type !== undefined) &&
      (s.system === undefined || s.system.toLowerCase() === id.system) &&
      (s.type === undefined || s.type.toUpperCase() === id.type),
  );
}
