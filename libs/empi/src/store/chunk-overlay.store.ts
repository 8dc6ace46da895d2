import type { CandidateStore } from './candidate-store.port';
import { InMemoryCandidateStore } from './in-memory-candidate.store';
import type { PersonRecord, StoredRecord } from '../record/person-record.model';

/**
 * A chunk's view of the store: what was read for the whole chunk in one query
 * (candidates per record, records of candidate persons) plus the records the
 * chunk has decided so far (kept in memory and written at the end with one
 * multi-row save). Record i of a chunk therefore sees records 0..i-1 exactly as
 * if they had been saved one by one.
 */
export class ChunkOverlayStore implements CandidateStore {
  private readonly local = new InMemoryCandidateStore();
  private readonly pending = new Map<string, { record: PersonRecord; personId: string; blockingKeys: string[] }>();
  private readonly candidatesByKeys = new Map<string, StoredRecord[]>();
  // The engine hands the same (frozen) key array to prefetch, scoring and resolve: looked up by identity first, by content otherwise.
  private readonly candidatesByKeyArray = new Map<string[], StoredRecord[]>();
  private readonly personRecords = new Map<string, StoredRecord[]>();

  constructor(private readonly base: CandidateStore, private readonly personRecordLimit: number) {}

  async prefetchCandidates(keySets: string[][], limit: number, minEvidence = 1): Promise<void> {
    const results = this.base.findCandidatesBatch
      ? await this.base.findCandidatesBatch(keySets, limit, minEvidence)
      : await Promise.all(keySets.map((k) => this.base.findCandidates(k, limit, minEvidence)));
    keySets.forEach((keys, i) => {
      this.candidatesByKeys.set(keyOf(keys), results[i]);
      this.candidatesByKeyArray.set(keys, results[i]);
    });
  }

  prefetched(keys: string[]): StoredRecord[] {
    return this.prefetchedFor(keys) ?? [];
  }

  private prefetchedFor(keys: string[]): StoredRecord[] | undefined {
    return this.candidatesByKeyArray.get(keys) ?? this.candidatesByKeys.get(keyOf(keys));
  }

  async prefetchPersons(personIds: string[]): Promise<void> {
    const missing = personIds.filter((p) => !this.personRecords.has(p));
    if (!missing.length) return;
    const rows = this.base.recordsOfPersons
      ? await this.base.recordsOfPersons(missing, this.personRecordLimit)
      : (await Promise.all(missing.map((p) => this.base.recordsOfPerson(p)))).flat();
    for (const p of missing) this.personRecords.set(p, []);
    for (const r of rows) this.personRecords.get(r.personId)?.push(r);
  }

  async findCandidates(blockingKeys: string[], limit: number, minEvidence = 1): Promise<StoredRecord[]> {
    let fromBase = this.prefetchedFor(blockingKeys);
    if (!fromBase) fromBase = await this.base.findCandidates(blockingKeys, limit, minEvidence);
    const local = await this.local.findCandidates(blockingKeys, limit, minEvidence);
    const localIds = new Set(local.map((r) => r.recordId));
    // Records re-saved in this chunk shadow their stored version.
    return [...local, ...fromBase.filter((r) => !localIds.has(r.recordId) && !this.pending.has(r.recordId))]
      .sort((a, b) => (b.sharedKeys ?? 0) - (a.sharedKeys ?? 0))
      .slice(0, limit);
  }

  async recordsOfPersons(personIds: string[], limitPerPerson: number): Promise<StoredRecord[]> {
    await this.prefetchPersons(personIds);
    const out: StoredRecord[] = [];
    for (const p of personIds) {
      const local = await this.local.recordsOfPerson(p);
      const localIds = new Set(local.map((r) => r.recordId));
      const stored = (this.personRecords.get(p) ?? []).filter((r) => !localIds.has(r.recordId) && !this.pending.has(r.recordId));
      out.push(...[...stored, ...local].slice(-limitPerPerson));
    }
    return out;
  }

  async recordsOfPerson(personId: string): Promise<StoredRecord[]> {
    return this.recordsOfPersons([personId], Number.MAX_SAFE_INTEGER);
  }

  async save(record: PersonRecord, personId: string, blockingKeys: string[]): Promise<void> {
    await this.local.save(record, personId, blockingKeys);
    this.pending.set(record.recordId, { record, personId, blockingKeys });
  }

  async assignPerson(): Promise<void> {
    throw new Error('ChunkOverlayStore does not move records: merges run outside chunk matching');
  }

  /** Writes every record decided in the chunk (multi-row when the base store can). */
  async flush(): Promise<void> {
    const entries = [...this.pending.values()];
    if (!entries.length) return;
    if (this.base.saveMany) await this.base.saveMany(entries);
    else for (const e of entries) await this.base.save(e.record, e.personId, e.blockingKeys);
    this.pending.clear();
  }
}

function keyOf(keys: string[]): string {
  return keys.join('\u0001');
}
