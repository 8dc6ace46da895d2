import { randomUUID } from 'node:crypto';
import { blockingKeys } from './blocking-key.generator';
import type { CandidateStore } from '../store/candidate-store.port';
import { COMPARISON_LEVELS, COMPARISON_NAMES, identifierSelected, resolveMatchConfig, type MatchConfig } from './match-config.model';
import { MatchWeights, type FieldContribution, type TermFrequencies } from './match-weight.scorer';
import type { PersonRecord, StoredRecord } from '../record/person-record.model';
import { normalizeRecord, type NormalizedRecord } from '../record/person-record.normalizer';
import { compareRecords, type NameSlots, type RecordComparison } from './record-comparison.comparator';
import { identityRules, type IdentityRuleFinding, type PairContext } from './identity-rules';
import { differentListedGivenNames, givenNamesExplained, twoListedGivenNames } from './given-name-typo';
import { withinOneEdit } from './string-similarity.comparator';
import { nameFrequency, usNameFrequencySeed, type NameFrequencySnapshot } from '../frequency/name-frequency.model';
import { ChunkOverlayStore } from '../store/chunk-overlay.store';

/** Findings against any record of a person that forbid linking to it, not only against the best-scoring one. */
const SIBLING_EVIDENCE: ReadonlySet<string> = new Set(['given-name-conflict', 'sex-conflict', 'sibling-identifier-conflict', 'individual-evidence-conflict']);

export type MatchDecision = 'link' | 'review' | 'new';
export type MatchMethod = 'deterministic-identifier' | 'trusted-identifier' | 'probabilistic' | 'new';

export interface CandidateScore {
  recordId: string;
  personId: string;
  /** Total match weight (log2) of the incoming record against this candidate record, rules included. */
  score: number;
  namesTransposed: boolean;
}

/** One record of a candidate person as it compared with the incoming record. */
export interface RecordEvidence {
  recordId: string;
  score: number;
  /** Fellegi–Sunter sum before rules. */
  fsScore: number;
  contributions: FieldContribution[];
  rules: IdentityRuleFinding[];
  namesTransposed: boolean;
}

/** How a candidate person as a whole compared (no chaining: every record of the person counts). */
export interface PersonEvidence {
  personId: string;
  /** Best record score (the person's score). */
  score: number;
  /** Worst record score: a record that contradicts the incoming one keeps the person from an auto-link. */
  worstScore: number;
  /** Mean record score, each clamped at `upper`: how well the record fits the person as a whole. */
  meanScore: number;
  /** Could be auto-linked: best ≥ upper, mean ≥ floor, no blocking rule on the best record. */
  linkable: boolean;
  /** Why it could not be linked, when it could not. */
  blockedBy: string[];
  records: RecordEvidence[];
}

/** A person's stored evidence and, for the decision only, its best record and whether it holds the incoming record's twin or sibling. */
interface PersonAssessment {
  evidence: PersonEvidence;
  bestRecord: ScoredRecord;
  /** Another record of the person has SIBLING_EVIDENCE against the incoming one. */
  siblingOfIncoming: boolean;
}

/** Everything needed to explain a decision later: stored with every link and review item. */
export interface MatchExplanation {
  decision: MatchDecision;
  method: MatchMethod;
  score: number;
  thresholds: { upper: number; lower: number };
  personFloor: number;
  parametersVersion: string;
  frequencyVersion: string;
  /** Candidate persons, best first (at most five). */
  candidates: PersonEvidence[];
  /** Plain-language reason of the decision. */
  reason: string;
}

/** An uncertain match a human must confirm (task service: identity review workflow). */
export interface ReviewItem {
  recordId: string;
  /** The person the record was provisionally given. */
  provisionalPersonId: string;
  /** The best existing person it may belong to. */
  candidatePersonId: string;
  candidateRecordId: string;
  /** Every person it may belong to (two or more when it matched several: they are never joined automatically). */
  candidatePersonIds: string[];
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
  explanation: MatchExplanation;
}

export type PersonIdGenerator = (record: PersonRecord) => string;

export interface MatchEngineOptions {
  store: CandidateStore;
  /** Partial configs are completed from DEFAULT_MATCH_CONFIG. */
  config?: Partial<MatchConfig>;
  /** Enterprise person id (EPID) factory; inject a deterministic one in tests. */
  personIdGenerator?: PersonIdGenerator;
  /** Name frequencies for term-frequency adjustment (default: the US Census cold-start seed). */
  frequencies?: NameFrequencySnapshot;
  /**
   * Normalised records by record object, shared by engines that outlive one another (a service makes an engine
   * per chunk; with `CandidateRecordCache` the same stored record object comes back across chunks, so its
   * normalised form is kept). Default: one per engine.
   */
  normalizedRecords?: WeakMap<PersonRecord, NormalizedRecord>;
}

interface ScoredRecord {
  stored: StoredRecord;
  normalized: NormalizedRecord;
  score: number;
  fsScore: number;
  vector: Int8Array;
  tf: TermFrequencies;
  rules: IdentityRuleFinding[];
  namesTransposed: boolean;
}

const MAX_EXPLAINED_PERSONS = 5;
const GIVEN_NAME_INDEX = COMPARISON_NAMES.indexOf('givenName');
const FAMILY_NAME_INDEX = COMPARISON_NAMES.indexOf('familyName');

/**
 * The two values the given-name level was read from: the given names, or — names read transposed — the
 * incoming record's given name against the stored family name (`slots.given` = 'familyName'), or its family
 * name against the stored given name.
 */
function comparedGivenNames(a: NormalizedRecord, b: NormalizedRecord, cmp: RecordComparison): [string | undefined, string | undefined] {
  if (!cmp.namesTransposed) return [a.givenName, b.givenName];
  return cmp.slots.given === 'familyName' ? [a.givenName, b.familyName] : [a.familyName, b.givenName];
}

/**
 * What the identity rules need beyond the comparison vector, from the two records' values — the given names
 * as compared: "warner, diane" against "diane warner" is one name each side, not Warner against Diane (two
 * listed given names, which read as twins and kept a swapped duplicate from its person) — and, with both names
 * agreeing exactly, how common the full name is (`tf`: the shares the score was adjusted with).
 */
function pairContext(a: NormalizedRecord, b: NormalizedRecord, cmp: RecordComparison, tf: TermFrequencies = {}): PairContext {
  const vector = cmp.vector;
  const level = vector[GIVEN_NAME_INDEX] < 0 ? undefined : COMPARISON_LEVELS.givenName[vector[GIVEN_NAME_INDEX]];
  const [ga, gb] = comparedGivenNames(a, b, cmp);
  const ya = Number(a.birthDate?.year);
  const yb = Number(b.birthDate?.year);
  return {
    givenExplained: givenNamesExplained(ga, gb, level),
    differentListedGivenNames: differentListedGivenNames(ga, gb),
    twoListedGivenNames: twoListedGivenNames(ga, gb),
    ...(Number.isFinite(ya) && Number.isFinite(yb) ? { birthYearGap: Math.abs(ya - yb) } : {}),
    ...(tf.givenName !== undefined && tf.familyName !== undefined ? { fullNameShare: tf.givenName * tf.familyName } : {}),
  };
}

/**
 * Online EMPI matching: one record at a time as messages arrive, or a chunk of
 * records with set-based store access. Order: deterministic record identifiers
 * (MRN of an assigning authority, or the same record id re-sent) → trusted
 * identifiers agreeing with the date of birth (unless a twin rule objects) →
 * term-frequency-adjusted Fellegi–Sunter with household rules, decided per
 * person over all of the person's records:
 *   - link when exactly one person is linkable and no other person reaches `upper`;
 *   - review when the best person reaches `lower` but cannot be linked, or two persons reach `upper`
 *     (the record never joins them: merging persons is a human's decision);
 *   - otherwise a new person.
 */
export class MatchEngine {
  readonly config: MatchConfig;
  private currentFrequencies: NameFrequencySnapshot;
  private readonly weights: MatchWeights;
  private readonly store: CandidateStore;
  private readonly nextPersonId: PersonIdGenerator;
  // Stored records come back as the same objects from the in-memory store;
  // caching their normalised form avoids redoing phonetics per comparison.
  private readonly normalizedCache: WeakMap<PersonRecord, NormalizedRecord>;
  // Blocking keys of an incoming record are needed for its locks, the chunk's candidate search and its save: computed once.
  private readonly keysCache = new WeakMap<NormalizedRecord, string[]>();
  private recordIdentifierTypes: string[] | undefined;

  constructor(options: MatchEngineOptions) {
    this.store = options.store;
    this.normalizedCache = options.normalizedRecords ?? new WeakMap();
    this.config = resolveMatchConfig(options.config);
    this.weights = new MatchWeights(this.config);
    this.currentFrequencies = options.frequencies ?? usNameFrequencySeed();
    this.nextPersonId = options.personIdGenerator ?? (() => `epid-${randomUUID()}`);
  }

  /** The name-frequency snapshot decisions are scored with now. */
  get frequencies(): NameFrequencySnapshot {
    return this.currentFrequencies;
  }

  /** Thresholds in force: the configured ones, raised by log2(index size / reference) for a large index. */
  get thresholds(): { upper: number; lower: number } {
    const records = this.currentFrequencies.records ?? 0;
    const shift = records > this.config.thresholdReferenceSize ? Math.log2(records / this.config.thresholdReferenceSize) : 0;
    return { upper: round(this.config.thresholds.upper + shift), lower: round(this.config.thresholds.lower + shift) };
  }

  /** Switches to a newer frequency snapshot (built from the index now and then, never per record). */
  useFrequencies(snapshot: NameFrequencySnapshot): void {
    this.currentFrequencies = snapshot;
  }

  /** Matches the record, assigns it a person and saves it with its blocking keys. */
  async match(record: PersonRecord): Promise<MatchResult> {
    const { result, keys } = await this.resolve(record, this.store);
    await this.store.save(record, result.personId, keys);
    return result;
  }

  /** Same decision as `match` without saving (what-if, review tooling). Allocates a person id for new/review outcomes. */
  async preview(record: PersonRecord): Promise<MatchResult> {
    return (await this.resolve(record, this.store)).result;
  }

  /**
   * Matches a chunk: one candidate search for all records, one read of the candidate persons'
   * records, decisions in order (a record sees the chunk's earlier records), then one multi-row
   * save. Same decisions as calling `match` record by record. With `save: false` nothing is
   * written (the caller persists `results[i].personId` with `keys[i]`).
   */
  async matchChunk(records: PersonRecord[], options: { save?: boolean } = {}): Promise<Array<{ result: MatchResult; keys: string[] }>> {
    const keySets = records.map((r) => this.blockingKeysOf(r));
    const overlay = new ChunkOverlayStore(this.store, this.config.personRecordLimit);
    await overlay.prefetchCandidates(keySets, this.config.candidateLimit, this.config.candidateMinEvidence);
    // Persons the chunk's records will be compared with as a whole (those reaching `lower` on some
    // record): found by scoring the prefetched candidates once (the scores are kept for the
    // decisions), then read in one query. A person that only becomes a contender through the
    // chunk's own earlier records is read when needed.
    this.chunkScores = new WeakMap();
    try {
      const persons = new Set<string>();
      const { lower } = this.thresholds;
      records.forEach((record, i) => {
        const incoming = this.normalize(record);
        for (const c of overlay.prefetched(keySets[i])) if (this.scoreRecord(incoming, c).score >= lower) persons.add(c.personId);
      });
      await overlay.prefetchPersons([...persons]);
      const out: Array<{ result: MatchResult; keys: string[] }> = [];
      for (const record of records) {
        const resolved = await this.resolve(record, overlay);
        await overlay.save(record, resolved.result.personId, resolved.keys);
        out.push(resolved);
      }
      if (options.save !== false) await overlay.flush();
      return out;
    } finally {
      this.chunkScores = undefined;
    }
  }

  /** Scores computed during the current chunk, by incoming record (object) and stored record id (a stored record re-saved in the chunk is a new object and is scored again). */
  private chunkScores: WeakMap<NormalizedRecord, Map<string, ScoredRecord>> | undefined;

  blockingKeysOf(record: PersonRecord): string[] {
    return this.keysOf(this.normalize(record));
  }

  /** The record's blocking keys (one frozen array per normalised record: shared, never to be changed). */
  private keysOf(normalized: NormalizedRecord): string[] {
    let keys = this.keysCache.get(normalized);
    if (!keys) this.keysCache.set(normalized, (keys = Object.freeze(blockingKeys(normalized, this.config)) as string[]));
    return keys;
  }

  /** Scores two records directly (explanations, review screens). */
  compare(a: PersonRecord, b: PersonRecord): RecordEvidence {
    const s = this.scoreRecord(this.normalize(a), { recordId: b.recordId, personId: '', record: b });
    return this.evidence(s, true);
  }

  private evidence(s: ScoredRecord, withContributions: boolean): RecordEvidence {
    return {
      recordId: s.stored.recordId, score: round(s.score), fsScore: round(s.fsScore),
      contributions: withContributions ? this.weights.contributions(s.vector, s.tf).map((c) => ({ ...c, weight: round(c.weight) })) : [],
      rules: s.rules, namesTransposed: s.namesTransposed,
    };
  }

  private personEvidence(personId: string, records: ScoredRecord[], upper: number, floor: number): PersonEvidence {
    return this.assessPerson(personId, records, upper, floor).evidence;
  }

  /**
   * A person's evidence, and beside it what the decision needs and the stored explanation does not carry: the
   * best record, and whether another record of the person marks the incoming one as a twin or sibling.
   */
  private assessPerson(personId: string, records: ScoredRecord[], upper: number, floor: number): PersonAssessment {
    const bestRec = best(records)!;
    const worst = records.reduce((w, r) => Math.min(w, r.score), Infinity);
    // The record must fit the person as a whole: most of its records must support the link on their own
    // (score ≥ lower), so one record — an earlier error, a namesake's — cannot pull a record in.
    const mean = records.reduce((sum, r) => sum + Math.min(r.score, upper), 0) / records.length;
    const { lower } = this.thresholds;
    let supporting = 0;
    for (const r of records) if (r.score >= lower) supporting++;
    const blockedBy = bestRec.rules.filter((f) => f.blocksAutoLink).map((f) => f.rule as string);
    // Strong different-person evidence against any record of the person (a twin's record, say) forbids the link:
    // an initial or a nickname matching one record must not pull a sibling into the person. Twins named alike
    // whose SSNs disagree count too: June's typo'd record had joined Joanne, and June followed it.
    let siblingOfIncoming = false;
    for (const r of records) {
      if (r === bestRec) continue;
      for (const f of r.rules) {
        if (!SIBLING_EVIDENCE.has(f.rule)) continue;
        blockedBy.push(`${f.rule} with record ${r.stored.recordId}`);
        siblingOfIncoming = true;
      }
    }
    if (mean < floor || supporting * 2 <= records.length) {
      blockedBy.push(`does not fit the person as a whole: ${supporting} of its ${records.length} records support the link, mean score ${round(mean)}`);
    }
    if (bestRec.score < upper) blockedBy.push(`best score ${round(bestRec.score)} < upper ${upper}`);
    const ranked = [...records].sort((a, b) => b.score - a.score);
    const evidence: PersonEvidence = {
      personId, score: bestRec.score, worstScore: worst, meanScore: round(mean), linkable: blockedBy.length === 0, blockedBy,
      // The best records carry their per-field evidence; the rest their totals and rules.
      records: ranked.slice(0, 10).map((r, i) => this.evidence(r, i < 3 || r.score < floor)),
    };
    return { evidence, bestRecord: bestRec, siblingOfIncoming };
  }

  private scoreRecord(incoming: NormalizedRecord, stored: StoredRecord): ScoredRecord {
    if (this.chunkScores) {
      let mine = this.chunkScores.get(incoming);
      if (!mine) this.chunkScores.set(incoming, (mine = new Map()));
      const hit = mine.get(stored.recordId);
      if (hit && hit.stored.record === stored.record && hit.stored.personId === stored.personId) return hit;
      const fresh = this.scoreUncached(incoming, stored);
      mine.set(stored.recordId, fresh);
      return fresh;
    }
    return this.scoreUncached(incoming, stored);
  }

  private scoreUncached(incoming: NormalizedRecord, stored: StoredRecord): ScoredRecord {
    const normalized = this.normalize(stored.record);
    const cmp = compareRecords(incoming, normalized, this.config.comparedIdentifiers);
    const tf: TermFrequencies = {};
    const gi = GIVEN_NAME_INDEX;
    const fi = FAMILY_NAME_INDEX;
    // Term frequency of an agreeing name: the stored field that slot was compared with (`slots`, crosswise when
    // the names were read transposed), counted in that field's table.
    const frequencyOf = (field: NameSlots['given']) => nameFrequency(this.frequencies, field === 'givenName' ? 'given' : 'family', normalized[field]!);
    if (cmp.vector[gi] === 0) tf.givenName = frequencyOf(cmp.slots.given);
    if (cmp.vector[fi] === 0) tf.familyName = frequencyOf(cmp.slots.family);
    const fsScore = this.weights.score(cmp.vector, tf);
    const rules = identityRules(cmp.vector, this.config, pairContext(incoming, normalized, cmp, tf));
    const swapped = this.swappedReadingConflicts(incoming, normalized, cmp.namesTransposed);
    if (swapped.length) rules.push(...swapped);
    let score = fsScore;
    for (const r of rules) score += r.weight;
    return { stored, normalized, score, fsScore, vector: cmp.vector, tf, rules, namesTransposed: cmp.namesTransposed };
  }

  /**
   * One name of a record equals the other name of the candidate (A's given = B's family, or the reverse), but
   * the pair is not a full transposition: A may be a given/family swap of a household member's record. Read
   * that way, the family names agree and the twin/sibling rules must be able to speak — "jordan kenny" (a
   * swapped "kenny jordan") against his twin "john jordan" otherwise shows only a family-name mismatch. Only
   * the conflict findings of the swapped reading are kept (never its agreements).
   */
  private swappedReadingConflicts(incoming: NormalizedRecord, stored: NormalizedRecord, transposed: boolean): IdentityRuleFinding[] {
    if (transposed || !incoming.givenName || !incoming.familyName || !stored.givenName || !stored.familyName) return [];
    const swap = (r: NormalizedRecord): NormalizedRecord => ({ ...r, givenName: r.familyName, familyName: r.givenName, givenPhonetic: r.familyPhonetic, familyPhonetic: r.givenPhonetic });
    let readings: Array<readonly [NormalizedRecord, NormalizedRecord]>;
    let reading: string;
    if (incoming.givenName === stored.familyName || incoming.familyName === stored.givenName) {
      // Either record may be the swapped one.
      readings = [[swap(incoming), stored], [incoming, swap(stored)]];
      reading = "one record's given and family names swapped";
    } else if (incoming.familyName !== stored.familyName && withinOneEdit(incoming.givenName, stored.givenName) && this.bothLookSwapped(incoming, stored)) {
      // Both records swapped ("white, sue" against her twin's "white, miguel", or "troter, tommy" against
      // "trotter, sandra"): the shared value (or one typo apart) is the family name, and read straight the
      // pair shows only a family-name mismatch that no household rule speaks to.
      readings = [[swap(incoming), swap(stored)]];
      reading = "both records' given and family names swapped";
    } else {
      return [];
    }
    const findings = new Map<string, IdentityRuleFinding>();
    for (const [a, b] of readings) {
      const cmp = compareRecords(a, b, this.config.comparedIdentifiers);
      for (const f of identityRules(cmp.vector, this.config, pairContext(a, b, cmp))) {
        if ((f.rule === 'given-name-conflict' || f.rule === 'sex-conflict') && !findings.has(f.rule)) {
          findings.set(f.rule, { ...f, reason: `read with ${reading}: ${f.reason}` });
        }
      }
    }
    return [...findings.values()];
  }

  /**
   * The given name the records share (as keyed in one of them) is a family name by the name frequencies (at
   * least twice as common as a surname as it is as a given name), and a family name of theirs is a given name
   * by the same measure. Without both, a shared given name with different family names reads straight: a
   * name change, or two people.
   *
   * A name's role is read from the public name lists when they hold it, and from the index's snapshot only
   * when they do not: the index counts the swapped records themselves, so a rarer surname keyed as a given
   * name a few times ("trevino" in twins Sophie and Lisa Trevino's swapped records) stopped looking like a
   * surname once a snapshot was taken, and the twins' swapped records became one person.
   */
  private bothLookSwapped(a: NormalizedRecord, b: NormalizedRecord): boolean {
    const seed = usNameFrequencySeed();
    /** `v` is at least twice as common as a `field` name as it is as the other kind. */
    const isMostlyA = (field: 'given' | 'family', v: string) => {
      const f = seed.given.has(v) || seed.family.has(v) ? seed : this.frequencies;
      return nameFrequency(f, field, v) >= 2 * nameFrequency(f, field === 'given' ? 'family' : 'given', v);
    };
    const isFamilyName = (v: string) => isMostlyA('family', v);
    const isGivenName = (v: string) => isMostlyA('given', v);
    return (isFamilyName(a.givenName!) || isFamilyName(b.givenName!)) && (isGivenName(a.familyName!) || isGivenName(b.familyName!));
  }

  private async resolve(record: PersonRecord, store: CandidateStore): Promise<{ result: MatchResult; keys: string[] }> {
    const incoming = this.normalize(record);
    const keys = this.keysOf(incoming);
    const candidates = await store.findCandidates(keys, this.config.candidateLimit, this.config.candidateMinEvidence);
    const scored = candidates.map((stored) => this.scoreRecord(incoming, stored));
    const { upper, lower } = this.thresholds;
    // The result's own keys come after these through a trailing spread: keys added after a leading spread take V8's slow path (~2 µs each).
    const result = (fields: Omit<MatchResult, 'recordId' | 'candidatesConsidered'>): MatchResult => ({ recordId: incoming.recordId, candidatesConsidered: scored.length, ...fields });
    const explain = (decision: MatchDecision, method: MatchMethod, score: number, candidates: PersonEvidence[], reason: string): MatchExplanation => ({
      decision, method, score: round(score), thresholds: { upper, lower }, personFloor: this.config.personFloor,
      parametersVersion: this.config.version, frequencyVersion: this.frequencies.version, candidates: candidates.slice(0, MAX_EXPLAINED_PERSONS), reason,
    });

    const deterministic = best(scored.filter((c) => c.stored.recordId === incoming.recordId || this.sharesRecordIdentifier(incoming, c.normalized)));
    if (deterministic) {
      const person = this.personEvidence(deterministic.stored.personId, [deterministic], upper, this.config.personFloor);
      return { result: result(this.linkTo(deterministic, 'deterministic-identifier', explain('link', 'deterministic-identifier', deterministic.score, [person], 'same record id, or same assigning authority and record identifier (MRN)'))), keys };
    }
    const trusted = best(scored.filter((c) => this.sharesTrustedIdentifierWithDob(incoming, c.normalized) && !c.rules.some((r) => r.rule === 'given-name-conflict' || r.rule === 'sex-conflict')));
    if (trusted) {
      const person = this.personEvidence(trusted.stored.personId, [trusted], upper, this.config.personFloor);
      return { result: result(this.linkTo(trusted, 'trusted-identifier', explain('link', 'trusted-identifier', trusted.score, [person], 'same trusted identifier (SSN / national id) and the same full birth date'))), keys };
    }

    // Person level: every person reaching the review band is compared as a whole (all its records).
    const bestPerPerson = new Map<string, number>();
    for (const c of scored) bestPerPerson.set(c.stored.personId, Math.max(bestPerPerson.get(c.stored.personId) ?? -Infinity, c.score));
    const contenders = [...bestPerPerson].filter(([, s]) => s >= lower).sort((a, b) => b[1] - a[1]).map(([p]) => p);
    const evidenceOf: PersonEvidence[] = [];
    const bestRecordOf = new Map<string, ScoredRecord>();
    /** Persons one of whose records says the incoming record is a twin or sibling of theirs (SIBLING_EVIDENCE). */
    const siblingOf = new Set<string>();
    if (contenders.length) {
      const all = await recordsOfPersons(store, contenders, this.config.personRecordLimit);
      const byPerson = new Map<string, StoredRecord[]>();
      for (const r of all) {
        if (r.recordId === incoming.recordId) continue;
        const list = byPerson.get(r.personId) ?? [];
        list.push(r);
        byPerson.set(r.personId, list);
      }
      const scoredOf = new Map<string, ScoredRecord[]>();
      for (const c of scored) {
        const list = scoredOf.get(c.stored.personId);
        if (list) list.push(c);
        else scoredOf.set(c.stored.personId, [c]);
      }
      for (const personId of contenders) {
        // Candidates already scored keep their score; the person's other records are scored now.
        const seen = new Map((scoredOf.get(personId) ?? []).map((c) => [c.stored.recordId, c]));
        for (const r of byPerson.get(personId) ?? []) if (!seen.has(r.recordId)) seen.set(r.recordId, this.scoreRecord(incoming, r));
        const records = [...seen.values()];
        const assessed = this.assessPerson(personId, records, upper, this.config.personFloor);
        evidenceOf.push(assessed.evidence);
        bestRecordOf.set(personId, assessed.bestRecord);
        if (assessed.siblingOfIncoming) siblingOf.add(personId);
      }
      evidenceOf.sort((a, b) => b.score - a.score);
    }
    const top = evidenceOf[0];
    // Persons the record matches on its own evidence (≥ upper, no pair rule against the best record).
    // A person one of whose records marks the incoming one as a twin or sibling is no rival match: its best record's
    // agreement is the household's ("curtis, sandra" against her brother's swapped "curtis, …" record).
    const atUpper = evidenceOf.filter((p) => p.score >= upper && !bestRecordOf.get(p.personId)!.rules.some((f) => f.blocksAutoLink) && !siblingOf.has(p.personId));
    if (top && top.linkable && atUpper.length === 1) {
      const rec = bestRecordOf.get(top.personId)!;
      return { result: result(this.linkTo(rec, 'probabilistic', explain('link', 'probabilistic', top.score, evidenceOf, `score ${round(top.score)} ≥ upper ${upper} against one person, consistent with all its records`))), keys };
    }
    const personId = this.nextPersonId(record);
    if (top && top.score >= lower) {
      const rec = bestRecordOf.get(top.personId)!;
      const reason = atUpper.length > 1
        ? `matches ${atUpper.length} different persons at or above upper ${upper}: never joined automatically`
        : top.score >= upper
          ? `score ${round(top.score)} ≥ upper ${upper} but not linkable: ${top.blockedBy.join('; ')}`
          : `score ${round(top.score)} between lower ${lower} and upper ${upper}`;
      const reviewPersons = (atUpper.length > 1 ? atUpper : [top]).map((p) => p.personId);
      return {
        result: result({
          decision: 'review',
          personId,
          score: top.score,
          bestCandidate: candidateScore(rec),
          contributions: this.weights.contributions(rec.vector, rec.tf),
          method: 'probabilistic',
          reviewItem: {
            recordId: incoming.recordId,
            provisionalPersonId: personId,
            candidatePersonId: top.personId,
            candidateRecordId: rec.stored.recordId,
            candidatePersonIds: reviewPersons,
            score: top.score,
            thresholds: { upper, lower },
          },
          explanation: explain('review', 'probabilistic', top.score, evidenceOf, reason),
        }),
        keys,
      };
    }
    const nearest = best(scored);
    const nearestEvidence = nearest ? [this.personEvidence(nearest.stored.personId, [nearest], upper, this.config.personFloor)] : [];
    return {
      result: result({
        decision: 'new',
        personId,
        score: nearest?.score ?? 0,
        bestCandidate: nearest ? candidateScore(nearest) : undefined,
        contributions: nearest ? this.weights.contributions(nearest.vector, nearest.tf) : [],
        method: 'new',
        explanation: explain('new', 'new', nearest?.score ?? 0, nearestEvidence, nearest ? `best score ${round(nearest.score)} < lower ${lower}` : 'no candidate shares a blocking key'),
      }),
      keys,
    };
  }

  private linkTo(c: ScoredRecord, method: MatchMethod, explanation: MatchExplanation): Omit<MatchResult, 'recordId' | 'candidatesConsidered'> {
    return { decision: 'link', personId: c.stored.personId, score: c.score, bestCandidate: candidateScore(c), contributions: this.weights.contributions(c.vector, c.tf), method, explanation };
  }

  private sharesRecordIdentifier(a: NormalizedRecord, b: NormalizedRecord): boolean {
    if (!a.identifiers.length || !b.identifiers.length) return false;
    const types = (this.recordIdentifierTypes ??= this.config.recordIdentifierTypes.map((t) => t.toUpperCase()));
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

async function recordsOfPersons(store: CandidateStore, personIds: string[], limit: number): Promise<StoredRecord[]> {
  if (store.recordsOfPersons) return store.recordsOfPersons(personIds, limit);
  const out: StoredRecord[] = [];
  for (const p of personIds) out.push(...(await store.recordsOfPerson(p)).slice(-limit));
  return out;
}

/** True when at least two core identity fields are present on both sides and disagree at the lowest level. */
export function conflictsOnCoreIdentity(vector: ArrayLike<number>): boolean {
  let conflicts = 0;
  for (const field of ['givenName', 'familyName', 'birthDate'] as const) {
    const index = COMPARISON_NAMES.indexOf(field);
    if (vector[index] === COMPARISON_LEVELS[field].length - 1) conflicts += 1;
  }
  return conflicts >= 2;
}

function best<T extends { score: number }>(candidates: T[]): T | undefined {
  let top: T | undefined;
  for (const c of candidates) if (!top || c.score > top.score) top = c;
  return top;
}

function candidateScore(c: ScoredRecord): CandidateScore {
  return { recordId: c.stored.recordId, personId: c.stored.personId, score: c.score, namesTransposed: c.namesTransposed };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
