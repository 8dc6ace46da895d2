import type { PersonRecord, StoredRecord } from '../record/person-record.model';

/**
 * Where the EMPI keeps records, their person and their blocking keys.
 * Implementations: `InMemoryCandidateStore` (tests, benchmark) and
 * `PgCandidateStore` (PostgreSQL, the service's own database).
 *
 * Concurrency: the engine reads candidates then saves; two records of one
 * person matched concurrently could each open a new person. Callers serialise
 * per partition (messages are keyed by source patient key) and the review
 * queue / merge primitives repair the rest.
 */
export interface CandidateStore {
  /**
   * Records whose shared keys add up to at least `minEvidence` (default 1: any shared key), summed
   * with `keyEvidence` (identifying keys count 2), most evidence first, at most `limit`; the
   * evidence is returned as `sharedKeys`. Ranking by evidence means the limit drops the weakest
   * candidates, not arbitrary ones.
   */
  findCandidates(blockingKeys: string[], limit: number, minEvidence?: number): Promise<StoredRecord[]>;
  /** Inserts or replaces the record (by recordId) with its person and blocking keys (old keys are dropped). */
  save(record: PersonRecord, personId: string, blockingKeys: string[]): Promise<void>;
  /** Moves records to another person (merge / unmerge persistence). */
  assignPerson(recordIds: string[], personId: string): Promise<void>;
  /** The records of one person. */
  recordsOfPerson(personId: string): Promise<StoredRecord[]>;
  /** The records of several persons at once, at most `limitPerPerson` each (newest first); engines fall back to recordsOfPerson. */
  recordsOfPersons?(personIds: string[], limitPerPerson: number): Promise<StoredRecord[]>;
  /** Candidates of many records in one search (set-based chunk matching); result i belongs to keySets[i]. */
  findCandidatesBatch?(keySets: string[][], limit: number, minEvidence?: number): Promise<StoredRecord[][]>;
  /** Saves many records with their persons and keys in a few multi-row statements. */
  saveMany?(entries: Array<{ record: PersonRecord; personId: string; blockingKeys: string[] }>): Promise<void>;
}
