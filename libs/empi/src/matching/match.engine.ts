import { randomUUID } from 'node:crypto';
import { blockingKeys } from './blocking-key.generator';
import type { CandidateStore } from '../store/candidate-store.port';
import { COMPARISON_LEVELS, COMPARISON_NAMES, identifierSelected, resolveMatchConfig, type MatchConfig } from './match-config.model';
import { MatchWeights, type FieldContribution } from './match-weight.scorer';
import type { PersonRecord, StoredRecord } from '../record/person-record.model';
import { normalizeRecord, type NormalizedRecord } from '../record/person-record.normalizer';
import { compareRecords } from './record-comparison.comparator';

export type MatchDecision = 'link' | 'review' | 'new';
export type MatchMethod = 'deterministic-identifier' | 'trusted-identifier' | 'probabilistic' | 'new';

export interface CandidateScore {
  recordId: string;
  personId: string;
  /** Total match weight (log2) of the incoming record against this candidate record. */
  score: number;
  namesTransposed: boolean;
}

/** An uncertain match a human must confirm (task service: identity review workflow). */
export interface ReviewItem {
  recordId: string;
  /** The person the record was provisionally given. */
  provisionalPersonId: string;
  /** The existing person it may belong to. */
  candidatePersonId: string;
  candidateRecordId: string;
  score: number;
  thresholds: { upper: number; lower: number };
}

export interface MatchResult {
  recordId: string;
  decision: MatchDecision;
  personId: string;
  score: number;
  bestCandidate?: CandidateScore;
  /** Per-field evidence against the best candidate (empty when there was none). */
  contributions: FieldContribution[];
  method: MatchMethod;
  reviewItem?: ReviewItem;
  candidatesConsidered: number;
}

export type PersonIdGenerator = () => string;

export interface MatchEngineOptions {
  store: CandidateStore;
  /** Partial configs are completed from DEFAULT_MATCH_CONFIG. */
  config?: Partial<MatchConfig>;
  /** Enterprise person id (EPID) factory; inject a deterministic one in tests. */
  personIdGenerator?: PersonIdGenerator;
}

interface ScoredCandidate {
  stored: StoredRecord;
  normalized: NormalizedRecord;
  score: number;
  vector: Int8Array;
  namesTransposed: boolean;
}

/**
 * Online EMPI matching: one record at a time, as messages arrive.
 * Order: deterministic record identifiers (MRN of an assigning authority,
 * or the same record id re-sent) → trusted identifiers agreeing with the
 * date of birth → Fellegi–Sunter score aggregated per person (max over the
 * person's records) against the two thresholds.
 */
export class MatchEngine {
  readonly config: MatchConfig;
  private readonly weights: MatchWeights;
  private readonly store: CandidateStore;
  private readonly nextPersonId: PersonIdGenerator;
  // Stored records come back as the same objects from the in-memory store;
  // caching their normalised form avoids redoing phonetics per comparison.
  private readonly normalizedCache = new WeakMap<PersonRecord, NormalizedRecord>();

  constructor(options: MatchEngineOptions) {
    this.store = options.store;
    this.config = resolveMatchConfig(options.config);
    this.weights = new MatchWeights(this.config);
    this.nextPersonId = options.personIdGenerator ?? (() => `epid-${randomUUID()}`);
  }

  /** Matches the record, assigns it a person and saves it with its blocking keys. */
  async match(record: PersonRecord): Promise<MatchResult> {
    const { result, keys } = await this.resolve(record);
    await this.store.save(record, result.personId, keys);
    return result;
  }

  /** Same decision as `match` without saving (what-if, review tooling). Allocates a person id for new/review outcomes. */
  async preview(record: PersonRecord): Promise<MatchResult> {
    return (await this.resolve(record)).result;
  }

  /** Scores two records directly (explanations, review screens). */
  compare(a: PersonRecord, b: PersonRecord): { score: number; contributions: FieldContribution[]; namesTransposed: boolean } {
    const cmp = compareRecords(this.normalize(a), this.normalize(b), this.config.comparedIdentifiers);
    return { score: this.weights.score(cmp.vector), contributions: this.weights.contributions(cmp.vector), namesTransposed: cmp.namesTransposed };
  }

  private async resolve(record: PersonRecord): Promise<{ result: MatchResult; keys: string[] }> {
    const incoming = this.normalize(record);
    const keys = blockingKeys(incoming, this.config);
    const candidates = await this.store.findCandidates(keys, this.config.candidateLimit);
    const scored: ScoredCandidate[] = candidates.map((stored) => {
      const normalized = this.normalize(stored.record);
      const cmp = compareRecords(incoming, normalized, this.config.comparedIdentifiers);
      return { stored, normalized, score: this.weights.score(cmp.vector), vector: cmp.vector, namesTransposed: cmp.namesTransposed };
    });
    const base = { recordId: incoming.recordId, candidatesConsidered: scored.length };

    const deterministic = best(scored.filter((c) => c.stored.recordId === incoming.recordId || this.sharesRecordIdentifier(incoming, c.normalized)));
    if (deterministic) return { result: { ...base, ...this.linkTo(deterministic), method: 'deterministic-identifier' }, keys };

    const trusted = best(scored.filter((c) => this.sharesTrustedIdentifierWithDob(incoming, c.normalized)));
    if (trusted) return { result: { ...base, ...this.linkTo(trusted), method: 'trusted-identifier' }, keys };

    // Person-level: a person is as close as its closest record.
    const perPerson = new Map<string, ScoredCandidate>();
    for (const c of scored) {
      const current = perPerson.get(c.stored.personId);
      if (!current || c.score > current.score) perPerson.set(c.stored.personId, c);
    }
    const top = best([...perPerson.values()]);
    const { upper, lower } = this.config.thresholds;
    // A high score built on shared household evidence (address, phone) must not auto-link two people whose
    // core identity disagrees outright: two of given name, family name and birth date completely different.
    if (top && top.score >= upper && !conflictsOnCoreIdentity(top.vector)) return { result: { ...base, ...this.linkTo(top), method: 'probabilistic' }, keys };
    const personId = this.nextPersonId();
    if (top && top.score >= lower) {
      return {
        result: {
          ...base,
          decision: 'review',
          personId,
          score: top.score,
          bestCandidate: candidateScore(top),
          contributions: this.weights.contributions(top.vector),
          method: 'probabilistic',
          reviewItem: {
            recordId: incoming.recordId,
            provisionalPersonId: personId,
            candidatePersonId: top.stored.personId,
            candidateRecordId: top.stored.recordId,
            score: top.score,
            thresholds: { upper, lower },
          },
        },
        keys,
      };
    }
    return {
      result: {
        ...base,
        decision: 'new',
        personId,
        score: top?.score ?? 0,
        bestCandidate: top ? candidateScore(top) : undefined,
        contributions: top ? this.weights.contributions(top.vector) : [],
        method: 'new',
      },
      keys,
    };
  }

  private linkTo(c: ScoredCandidate): Pick<MatchResult, 'decision' | 'personId' | 'score' | 'bestCandidate' | 'contributions'> {
    return { decision: 'link', personId: c.stored.personId, score: c.score, bestCandidate: candidateScore(c), contributions: this.weights.contributions(c.vector) };
  }

  private sharesRecordIdentifier(a: NormalizedRecord, b: NormalizedRecord): boolean {
    const types = this.config.recordIdentifierTypes.map((t) => t.toUpperCase());
    return a.identifiers.some(
      (ia) => ia.type !== undefined && types.includes(ia.type) &&
        b.identifiers.some((ib) => ib.type === ia.type && ib.system === ia.system && ib.value === ia.value),
    );
  }

  /** A trusted id alone is not enough (reused/mistyped SSNs): the full date of birth must agree too. */
  private sharesTrustedIdentifierWithDob(a: NormalizedRecord, b: NormalizedRecord): boolean {
    if (!a.birthDate || !b.birthDate || a.birthDate.precision !== 'day' || a.birthDate.compact !== b.birthDate.compact) return false;
    return a.identifiers.some(
      (ia) => identifierSelected(ia, this.config.trustedIdentifiers) &&
        b.identifiers.some((ib) => ib.system === ia.system && ib.value === ia.value && identifierSelected(ib, this.config.trustedIdentifiers)),
    );
  }

  private normalize(record: PersonRecord): NormalizedRecord {
    let n = this.normalizedCache.get(record);
    if (!n) this.normalizedCache.set(record, (n = normalizeRecord(record)));
    return n;
  }
}

const CORE_FIELDS = ['givenName', 'familyName', 'birthDate'] as const;

/** True when at least two core identity fields are present on both sides and disagree at the lowest level. */
export function conflictsOnCoreIdentity(vector: ArrayLike<number>): boolean {
  let conflicts = 0;
  for (const field of CORE_FIELDS) {
    const index = COMPARISON_NAMES.indexOf(field);
    if (vector[index] === COMPARISON_LEVELS[field].length - 1) conflicts += 1;
  }
  return conflicts >= 2;
}

function best(candidates: ScoredCandidate[]): ScoredCandidate | undefined {
  let top: ScoredCandidate | undefined;
  for (const c of candidates) if (!top || c.score > top.score) top = c;
  return top;
}

function candidateScore(c: ScoredCandidate): CandidateScore {
  return { recordId: c.stored.recordId, personId: c.stored.personId, score: c.score, namesTransposed: c.namesTransposed };
}
