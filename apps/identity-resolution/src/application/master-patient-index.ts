import {
  MatchEngine, blockingKeys, chooseParameterSet, frequencySnapshotFromCounts, normalizeRecord, parameterSetConfig, resolveMatchConfig, usNameFrequencySeed,
  type MatchConfig, type NameFrequencySnapshot, type NormalizedRecord, type PersonRecord,
} from '@clinmesh/empi';
import { enterpriseIdFor } from '../domain/enterprise-id';
import {
  PersonMergedError, PersonNotFoundError, ReviewAlreadyDecidedError, ReviewCandidateError, ReviewItemNotFoundError, ReviewVersionConflictError, UnmergeRequestError,
} from '../domain/identity.errors';
import type { PersonIndexPort, RecordLink, ReviewItemRow } from '../domain/person-index.port';
import { IdentityChangeLog } from './identity-change.log';

export interface RecordAssignment {
  epid: string;
  /** How the record is tied to its person (the stored link's method for a record already known). */
  method: string;
  score: number | null;
  personCreated: boolean;
  decision: 'known' | 'link' | 'review' | 'new' | 'directed';
  reviewItemId?: string;
}

/** An active parameter set as scoring uses it: the base config with the set's m/u and version. */
export interface ActiveParameters {
  version: string;
  sourceSystem: string | null;
  config: MatchConfig;
}

export interface AssignOptions {
  /** Id of the review item this match would open (deterministic per triggering event). */
  reviewItemId: string;
  /** Link an unknown record to this person without matching (ADT^A47 identifier change). */
  directedEpid?: { epid: string; method: string };
}

/**
 * The EMPI use cases over one transaction: assign a record to a person
 * (deterministic rules then Fellegi–Sunter via @clinmesh/empi's MatchEngine),
 * merge, unmerge, review decisions. Lock order is always blocking keys, then
 * persons, so concurrent transactions cannot deadlock on each other except a
 * merge racing an opposite merge (PostgreSQL aborts one; it is retried).
 */
export class MasterPatientIndex {
  readonly config: MatchConfig;
  /** Name frequencies in force (cold start: the US Census seed), reloaded from the newest stored snapshot now and then. */
  private frequencies: NameFrequencySnapshot = usNameFrequencySeed();
  private frequenciesCheckedAt = Number.NEGATIVE_INFINITY;

  /** Active EM parameter sets (per source, and for all sources), reloaded like the frequencies. */
  private activeParameters: ActiveParameters[] = [];
  private activeParametersKey = '';
  private parametersCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(config: Partial<MatchConfig> = {}, private readonly frequencyReloadMs = 60_000, private readonly now: () => number = Date.now) {
    this.config = resolveMatchConfig(config);
  }

  /**
   * The active parameter sets; picks up activations of other replicas at most every `frequencyReloadMs`
   * (an activation in this replica calls `parametersChanged`, so it takes effect here at once).
   */
  async parametersFor(repo: PersonIndexPort): Promise<ActiveParameters[]> {
    if (this.now() - this.parametersCheckedAt < this.frequencyReloadMs) return this.activeParameters;
    this.parametersCheckedAt = this.now();
    const rows = await repo.parameters.active();
    const key = rows.map((r) => `${r.sourceSystem ?? '*'}=${r.version}`).join('\n');
    if (key !== this.activeParametersKey) {
      this.activeParameters = rows.map((r) => ({ version: r.version, sourceSystem: r.sourceSystem, config: parameterSetConfig(this.config, r) }));
      this.activeParametersKey = key;
    }
    return this.activeParameters;
  }

  /** The config a record of `sourceSystem` is scored with: its source's active set, else the all-sources set, else the default. */
  configFor(active: readonly ActiveParameters[], sourceSystem: string | null | undefined): MatchConfig {
    return chooseParameterSet(active, sourceSystem)?.config ?? this.config;
  }

  /** Called after an activation committed in this replica: the next match reloads the active sets. */
  parametersChanged(): void {
    this.parametersCheckedAt = Number.NEGATIVE_INFINITY;
  }

  /** The snapshot decisions are scored with; picks up a newer stored snapshot at most every `frequencyReloadMs`. */
  async frequenciesFor(repo: PersonIndexPort): Promise<NameFrequencySnapshot> {
    if (this.now() - this.frequenciesCheckedAt < this.frequencyReloadMs) return this.frequencies;
    this.frequenciesCheckedAt = this.now();
    const latest = await repo.latestFrequencySnapshot();
    if (latest && latest.version !== this.frequencies.version) this.frequencies = frequencySnapshotFromCounts(latest.counts, usNameFrequencySeed(), latest.version);
    return this.frequencies;
  }

  /**
   * Operator command: counts the names in the index into a new, versioned snapshot (a new row; nothing
   * is updated per record) and uses it from now on. Every explanation names the version it was scored with.
   */
  async refreshFrequencies(repo: PersonIndexPort): Promise<{ version: string; records: number; givenNames: number; familyNames: number }> {
    const counts = await repo.candidates.nameCounts();
    const version = `index-${new Date(this.now()).toISOString()}-n${counts.total}`;
    await repo.saveFrequencySnapshot(version, counts);
    this.frequencies = frequencySnapshotFromCounts(counts, usNameFrequencySeed(), version);
    this.frequenciesCheckedAt = this.now();
    return { version, records: counts.total, givenNames: counts.given.size, familyNames: counts.family.size };
  }

  /**
   * Normalised records by object, shared by the engines of every chunk: incoming records are normalised once
   * (locks, search, save), and candidate records the consumer's CandidateRecordCache hands back unchanged keep theirs.
   */
  private readonly normalizedRecords = new WeakMap<PersonRecord, NormalizedRecord>();

  blockingKeysOf(record: PersonRecord): string[] {
    let normalized = this.normalizedRecords.get(record);
    if (!normalized) this.normalizedRecords.set(record, (normalized = normalizeRecord(record)));
    return blockingKeys(normalized, this.config);
  }

  async assign(repo: PersonIndexPort, record: PersonRecord, changes: IdentityChangeLog, options: AssignOptions): Promise<RecordAssignment> {
    const keys = this.blockingKeysOf(record);
    // Serialise with every transaction that could see this record as a candidate (same person arriving elsewhere at once).
    await repo.candidates.lockKeys(keys);
    const existing = await repo.link(record.recordId);
    if (existing) {
      // The record → person link is the source of truth: a re-sent or replayed record keeps its EPID; new demographics only refresh its keys.
      const epid = await this.current(repo, existing.epid);
      await repo.candidates.save(record, epid, keys);
      return { epid, method: existing.method, score: existing.score, personCreated: false, decision: 'known' };
    }

    if (options.directedEpid) {
      const epid = await this.current(repo, options.directedEpid.epid);
      await repo.candidates.save(record, epid, keys);
      await repo.saveLink({ recordId: record.recordId, epid, method: options.directedEpid.method, score: null, contributions: [], candidateRecordId: null, sourceSystem: record.sourceSystem ?? null });
      changes.add('record-linked', { type: 'RECORD_LINKED', epid, otherEpid: null, recordKey: record.recordId, method: options.directedEpid.method, score: null });
      return { epid, method: options.directedEpid.method, score: null, personCreated: false, decision: 'directed' };
    }

    const config = this.configFor(await this.parametersFor(repo), record.sourceSystem);
    const engine = new MatchEngine({ store: repo.candidates, config, frequencies: await this.frequenciesFor(repo), personIdGenerator: () => enterpriseIdFor(record.recordId), normalizedRecords: this.normalizedRecords });
    const result = await engine.preview(record);
    let epid = result.personId;
    let personCreated = false;
    if (result.decision === 'link') {
      epid = await this.current(repo, result.personId);
    } else {
      await repo.lockPersons([epid]);
      personCreated = await repo.createPerson(epid);
    }
    const method = result.decision === 'review' ? 'probabilistic-review' : result.method;
    const score = result.bestCandidate ? round(result.score) : null;
    await repo.candidates.save(record, epid, keys);
    await repo.saveLink({
      recordId: record.recordId, epid, method, score, contributions: result.contributions.map((c) => ({ ...c, weight: round(c.weight) })),
      candidateRecordId: result.bestCandidate?.recordId ?? null, sourceSystem: record.sourceSystem ?? null, explanation: result.explanation,
    });
    if (personCreated) changes.add('person-created', { type: 'PERSON_CREATED', epid, otherEpid: null, recordKey: record.recordId, method, score });
    if (result.decision === 'link') changes.add('record-linked', { type: 'RECORD_LINKED', epid, otherEpid: null, recordKey: record.recordId, method, score });
    let reviewItemId: string | undefined;
    if (result.decision === 'review' && result.reviewItem) {
      reviewItemId = options.reviewItemId;
      await repo.insertReviewItem({
        id: reviewItemId, recordId: record.recordId, provisionalEpid: epid, candidateEpid: result.reviewItem.candidatePersonId,
        candidateRecordId: result.reviewItem.candidateRecordId, candidateEpids: result.reviewItem.candidatePersonIds, score: round(result.reviewItem.score),
        contributions: result.contributions.map((c) => ({ ...c, weight: round(c.weight) })), thresholds: result.reviewItem.thresholds, explanation: result.explanation,
      });
      changes.add('review-required', { type: 'REVIEW_REQUIRED', epid, otherEpid: result.reviewItem.candidatePersonId, recordKey: record.recordId, method, score, reviewItemId });
    }
    return { epid, method, score, personCreated, decision: result.decision, reviewItemId };
  }

  /**
   * Assigns a chunk of records set-based: the chunk's blocking keys are locked by the caller; one
   * query finds the records already known, the engine matches the rest against one candidate query
   * and one person query for the whole chunk (each record seeing the chunk's earlier ones), then
   * persons, records, keys, links and review items are written with one multi-row statement each
   * (`deferWrites`: all but the persons by the transaction's closing statement — for a caller that
   * reads none of them back in this transaction). Same decisions as `assign` record by record.
   * Returns each record's assignment and its changes (published by the caller through the event's context).
   */
  async assignChunk(
    repo: PersonIndexPort, items: Array<{ record: PersonRecord; reviewItemId: string }>, options: { deferWrites?: boolean } = {},
  ): Promise<Array<{ assignment: RecordAssignment; changes: IdentityChangeLog }>> {
    const out = items.map(() => ({ assignment: undefined as unknown as RecordAssignment, changes: new IdentityChangeLog() }));
    if (!items.length) return out;
    const known = await repo.linksOf(items.map((i) => i.record.recordId));
    const frequencies = await this.frequenciesFor(repo);
    const active = await this.parametersFor(repo);
    const toMatch = items.map((item, i) => ({ item, i })).filter(({ item }) => !known.has(item.record.recordId));
    // Records are scored with their source's parameter set. A chunk whose records share one set (the
    // usual case, and always while no set is active) is matched as one set-based chunk. A chunk mixing
    // sets is matched as consecutive runs of one set each, in arrival order; every run but the last is
    // saved (same transaction, keys already locked) before the next run's candidate query, so a later
    // record sees the earlier ones exactly as record by record. Blocking keys do not depend on m/u.
    const runs: Array<{ config: MatchConfig; records: PersonRecord[] }> = [];
    for (const { item } of toMatch) {
      const config = this.configFor(active, item.record.sourceSystem);
      const last = runs[runs.length - 1];
      if (last?.config === config) last.records.push(item.record);
      else runs.push({ config, records: [item.record] });
    }
    const matched: Awaited<ReturnType<MatchEngine['matchChunk']>> = [];
    for (const [r, run] of runs.entries()) {
      const engine = new MatchEngine({ store: repo.candidates, config: run.config, frequencies, personIdGenerator: (rec) => enterpriseIdFor(rec.recordId), normalizedRecords: this.normalizedRecords });
      matched.push(...(await engine.matchChunk(run.records, { save: r < runs.length - 1 })));
    }

    // Persons the chunk links to must be current (a concurrent merge may have retired one): lock them, follow merges.
    const linkedTo = [...new Set([...matched.filter((m) => m.result.decision === 'link').map((m) => m.result.personId), ...[...known.values()].map((l) => l.epid)])];
    const current = await this.currentMany(repo, linkedTo);
    const firstAssignment = new Map<string, RecordAssignment>();
    const records = new Map<string, { record: PersonRecord; personId: string; blockingKeys: string[] }>();
    const links: RecordLink[] = [];
    const reviews: Parameters<PersonIndexPort['insertReviewItems']>[0] = [];
    const fresh: string[] = [];
    const matchedByIndex = new Map(toMatch.map((m, k) => [m.i, matched[k]]));
    for (const [i, { record, reviewItemId }] of items.entries()) {
      const link = known.get(record.recordId);
      const earlier = firstAssignment.get(record.recordId);
      if (link || earlier) {
        // Known record (or the chunk's own earlier message of it): keeps its person; demographics and keys refresh.
        const epid = link ? current.get(link.epid) ?? link.epid : earlier!.epid;
        out[i].assignment = link
          ? { epid, method: link.method, score: link.score, personCreated: false, decision: 'known' }
          : { epid, method: earlier!.method, score: earlier!.score, personCreated: false, decision: 'known' };
        records.set(record.recordId, { record, personId: epid, blockingKeys: this.blockingKeysOf(record) });
        continue;
      }
      const { result, keys } = matchedByIndex.get(i)!;
      const epid = result.decision === 'link' ? current.get(result.personId) ?? result.personId : result.personId;
      if (result.decision !== 'link') fresh.push(epid);
      const method = result.decision === 'review' ? 'probabilistic-review' : result.method;
      const score = result.bestCandidate ? round(result.score) : null;
      records.set(record.recordId, { record, personId: epid, blockingKeys: keys });
      links.push({
        recordId: record.recordId, epid, method, score, contributions: result.contributions.map((c) => ({ ...c, weight: round(c.weight) })),
        candidateRecordId: result.bestCandidate?.recordId ?? null, sourceSystem: record.sourceSystem ?? null, explanation: result.explanation,
      });
      const assignment: RecordAssignment = { epid, method, score, personCreated: false, decision: result.decision };
      if (result.decision === 'review' && result.reviewItem) {
        assignment.reviewItemId = reviewItemId;
        reviews.push({
          id: reviewItemId, recordId: record.recordId, provisionalEpid: epid, candidateEpid: result.reviewItem.candidatePersonId,
          candidateRecordId: result.reviewItem.candidateRecordId, candidateEpids: result.reviewItem.candidatePersonIds, score: round(result.reviewItem.score),
          contributions: result.contributions.map((c) => ({ ...c, weight: round(c.weight) })), thresholds: result.reviewItem.thresholds, explanation: result.explanation,
        });
      }
      out[i].assignment = assignment;
      firstAssignment.set(record.recordId, assignment);
    }
    const created = await repo.createPersons(fresh);
    // Persons are written now (which ones are new decides PERSON_CREATED); records, keys, links and
    // review items may ride on the transaction's closing statement when nothing reads them back.
    await repo.saveChunk({ records: [...records.values()], links, reviews }, { deferred: options.deferWrites });
    for (const [i, { record }] of items.entries()) {
      const a = out[i].assignment;
      if (a.decision === 'known') continue;
      a.personCreated = a.decision !== 'link' && created.has(a.epid);
      const changes = out[i].changes;
      if (a.personCreated) changes.add('person-created', { type: 'PERSON_CREATED', epid: a.epid, otherEpid: null, recordKey: record.recordId, method: a.method, score: a.score });
      if (a.decision === 'link') changes.add('record-linked', { type: 'RECORD_LINKED', epid: a.epid, otherEpid: null, recordKey: record.recordId, method: a.method, score: a.score });
      if (a.reviewItemId) {
        const review = reviews.find((r) => r.id === a.reviewItemId)!;
        changes.add('review-required', { type: 'REVIEW_REQUIRED', epid: a.epid, otherEpid: review.candidateEpid, recordKey: record.recordId, method: a.method, score: a.score, reviewItemId: a.reviewItemId });
      }
    }
    return out;
  }

  /** Current person of each EPID (merges followed), locked for this transaction: one lock statement and one read per merge hop. */
  private async currentMany(repo: PersonIndexPort, epids: string[]): Promise<Map<string, string>> {
    const out = new Map(epids.map((e) => [e, e]));
    let frontier = epids;
    for (let hops = 0; frontier.length && hops < 64; hops++) {
      await repo.lockPersons(frontier);
      const rows = await repo.persons(frontier);
      const next: string[] = [];
      for (const [from, at] of out) {
        const p = rows.get(at);
        if (p?.status === 'merged' && p.mergedInto) {
          out.set(from, p.mergedInto);
          next.push(p.mergedInto);
        }
      }
      frontier = [...new Set(next)];
    }
    return out;
  }

  /** Folds `retired` (after following earlier merges) into `survivor`; false when they are already one person. */
  async merge(repo: PersonIndexPort, survivorEpid: string, retiredEpid: string, reason: string, mergeId: string, changes: IdentityChangeLog, purpose = 'persons-merged'): Promise<{ merged: boolean; survivor: string; retired: string; recordIds: string[] }> {
    await repo.lockPersons([survivorEpid, retiredEpid]);
    const survivor = await this.current(repo, survivorEpid);
    const retired = await this.current(repo, retiredEpid);
    if (survivor === retired) return { merged: false, survivor, retired, recordIds: [] };
    const recordIds = (await repo.candidates.recordsOfPerson(retired)).map((r) => r.recordId);
    await repo.moveLinks(recordIds, survivor);
    await repo.setPersonStatus(retired, 'merged', survivor);
    await repo.insertMerge({ id: mergeId, survivorEpid: survivor, retiredEpid: retired, recordIds, reason });
    changes.add(purpose, { type: 'PERSONS_MERGED', epid: survivor, otherEpid: retired, recordKey: recordIds[0] ?? '', method: reason, score: null });
    return { merged: true, survivor, retired, recordIds };
  }

  /**
   * Splits records off `epid`. Records that came in through a merge go back
   * to the person they came from (restored to active); records linked
   * directly go together to one new person.
   */
  async unmerge(repo: PersonIndexPort, epid: string, recordIds: string[], operationId: string, changes: IdentityChangeLog): Promise<Array<{ epid: string; recordIds: string[]; restored: boolean }>> {
    const wanted = [...new Set(recordIds)];
    if (!wanted.length || wanted.some((r) => typeof r !== 'string' || !r)) throw new UnmergeRequestError('PERSON.UNMERGE.INVALID', 'recordIds must be a non-empty list of record ids');
    await repo.lockPersons([epid]);
    const person = await repo.person(epid);
    if (!person) throw new PersonNotFoundError(epid);
    if (person.status === 'merged') throw new PersonMergedError(epid, person.mergedInto);
    const own = new Set((await repo.candidates.recordsOfPerson(epid)).map((r) => r.recordId));
    const foreign = wanted.filter((r) => !own.has(r));
    if (foreign.length) throw new UnmergeRequestError('PERSON.UNMERGE.RECORD_NOT_IN_PERSON', `${foreign.length} record(s) do not belong to ${epid}`, { recordIds: foreign });
    if (wanted.length === own.size) throw new UnmergeRequestError('PERSON.UNMERGE.ALL_RECORDS', 'at least one record must stay with the person');

    const merges = await repo.mergesInto(epid);
    const groups = new Map<string, { recordIds: string[]; restored: boolean; mergeIds: Set<string> }>();
    const fresh: string[] = [];
    for (const recordId of wanted) {
      const merge = merges.find((m) => m.recordIds.includes(recordId));
      if (!merge) {
        fresh.push(recordId);
        continue;
      }
      const g = groups.get(merge.retiredEpid) ?? { recordIds: [], restored: true, mergeIds: new Set<string>() };
      g.recordIds.push(recordId);
      g.mergeIds.add(merge.id);
      groups.set(merge.retiredEpid, g);
    }
    if (fresh.length) {
      const candidate = enterpriseIdFor(fresh[0]);
      const newEpid = (await repo.person(candidate)) ? enterpriseIdFor(`${fresh[0]}|unmerge|${operationId}`) : candidate;
      groups.set(newEpid, { recordIds: fresh, restored: false, mergeIds: new Set() });
    }
    await repo.lockPersons([...groups.keys()]);
    const out: Array<{ epid: string; recordIds: string[]; restored: boolean }> = [];
    for (const [target, g] of groups) {
      if (g.restored) await repo.setPersonStatus(target, 'active', null);
      else await repo.createPerson(target);
      await repo.moveLinks(g.recordIds, target);
      for (const id of g.mergeIds) await repo.markMergeUndone(id);
      changes.add(`persons-unmerged:${target}`, { type: 'PERSONS_UNMERGED', epid, otherEpid: target, recordKey: g.recordIds[0], method: 'unmerge', score: null });
      out.push({ epid: target, recordIds: g.recordIds, restored: g.restored });
    }
    return out;
  }

  /**
   * Applies a reviewer's decision with optimistic concurrency: `version` is the ETag the reviewer read
   * (412 when the item changed since), an item already decided answers 409 with its state. `link`
   * merges the provisional person into the chosen candidate (default: the best); `separate` keeps
   * them apart. Either way REVIEW_RESOLVED is published with the item id and the resolution.
   */
  async decide(
    repo: PersonIndexPort, id: string, version: number, decision: 'link' | 'separate', actor: string, changes: IdentityChangeLog, candidateEpid?: string,
  ): Promise<{ item: ReviewItemRow; survivor?: string }> {
    const before = await repo.reviewItem(id);
    if (!before) throw new ReviewItemNotFoundError(id);
    const conflict = (now: ReviewItemRow): never => {
      if (now.status !== 'open') throw new ReviewAlreadyDecidedError(id, { status: now.status, version: now.version, decidedBy: now.decidedBy, decidedAt: now.decidedAt });
      throw new ReviewVersionConflictError(id, version, now.version, now.status);
    };
    if (before.status !== 'open' || before.version !== version) conflict(before);
    const target = candidateEpid ?? before.candidateEpid;
    if (decision === 'link' && !before.candidateEpids.includes(target)) throw new ReviewCandidateError(id, target, before.candidateEpids);
    const item = await repo.decideReviewItem(id, version, decision === 'link' ? 'linked' : 'separated', actor);
    if (!item) return conflict((await repo.reviewItem(id))!);
    let survivor: string | undefined;
    if (decision === 'link') survivor = (await this.merge(repo, target, item.provisionalEpid, 'review-link', `review:${id}`, changes)).survivor;
    changes.add('review-resolved', {
      type: 'REVIEW_RESOLVED', epid: survivor ?? item.provisionalEpid, otherEpid: decision === 'link' ? null : item.candidateEpid, recordKey: item.recordId,
      method: 'review', score: item.score, reviewItemId: id, resolution: decision === 'link' ? 'linked' : 'kept-apart',
    });
    return { item, survivor };
  }

  /** The person an EPID resolves to today (following merges), locked for this transaction. */
  async current(repo: PersonIndexPort, epid: string): Promise<string> {
    let at = epid;
    for (let hops = 0; hops < 64; hops++) {
      await repo.lockPersons([at]);
      const person = await repo.person(at);
      if (!person || person.status !== 'merged' || !person.mergedInto) return at;
      at = person.mergedInto;
    }
    return at;
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
