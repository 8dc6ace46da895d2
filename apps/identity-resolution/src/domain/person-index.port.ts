import type { FieldContribution, MatchExplanation, NameCounts, PersonRecord, SqlCandidateStore } from '@clinmesh/empi';
import type { ParameterSetPort } from './parameter-set.model';

export type PersonStatus = 'active' | 'merged';

export interface PersonRow {
  epid: string;
  status: PersonStatus;
  mergedInto: string | null;
  createdAt: string;
  updatedAt: string;
}

/** How a record is tied to its person: the source of truth for the record's EPID. */
export interface RecordLink {
  recordId: string;
  epid: string;
  /** deterministic-identifier, trusted-identifier, probabilistic, probabilistic-review, new, merge, review-link, unmerge. */
  method: string;
  score: number | null;
  contributions: FieldContribution[];
  candidateRecordId: string | null;
  sourceSystem: string | null;
  /** Why the record is on this person: every candidate person's evidence, rules, thresholds and versions (null for directed links). */
  explanation?: MatchExplanation | null;
}

export type ReviewStatus = 'open' | 'linked' | 'separated';

export interface ReviewItemRow {
  id: string;
  recordId: string;
  provisionalEpid: string;
  candidateEpid: string;
  candidateRecordId: string;
  /** Every person the record may belong to (the best first); a link decision picks one of them. */
  candidateEpids: string[];
  score: number;
  contributions: FieldContribution[];
  thresholds: { upper: number; lower: number };
  explanation: MatchExplanation | null;
  status: ReviewStatus;
  version: number;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

export interface MergeRow {
  id: string;
  survivorEpid: string;
  retiredEpid: string;
  recordIds: string[];
  reason: string;
  createdAt: string;
  undoneAt: string | null;
}

/** A review item as it is opened (the rest is the store's). */
export type ReviewItemInput = Omit<ReviewItemRow, 'status' | 'version' | 'createdAt' | 'decidedAt' | 'decidedBy'>;

/** What matching a chunk writes. */
export interface ChunkOutcome {
  records: Array<{ record: PersonRecord; personId: string; blockingKeys: string[] }>;
  links: RecordLink[];
  reviews: ReviewItemInput[];
}

/**
 * The master patient index as the use cases need it, inside one transaction
 * (implemented over PostgreSQL with the event's or the request's unit of work).
 */
export interface PersonIndexPort {
  readonly candidates: SqlCandidateStore;
  /** Persisted m/u parameter sets (EM per source) and which one is active per source. */
  readonly parameters: ParameterSetPort;
  /** Serialises on persons (advisory locks, sorted): merges and links to one person never interleave. */
  lockPersons(epids: string[]): Promise<void>;
  person(epid: string): Promise<PersonRow | undefined>;
  /** Inserts an active person; false if it already existed. */
  createPerson(epid: string): Promise<boolean>;
  setPersonStatus(epid: string, status: PersonStatus, mergedInto: string | null): Promise<void>;
  link(recordId: string): Promise<RecordLink | undefined>;
  /** Records carrying this identifier (system + value), with their person. */
  recordsWithIdentifier(system: string, value: string): Promise<Array<{ recordId: string; epid: string }>>;
  links(epid: string): Promise<RecordLink[]>;
  saveLink(link: RecordLink): Promise<void>;
  /** Moves records (and their links, keeping how each was matched) to another person. */
  moveLinks(recordIds: string[], epid: string): Promise<void>;
  insertReviewItem(item: Omit<ReviewItemRow, 'status' | 'version' | 'createdAt' | 'decidedAt' | 'decidedBy'>): Promise<boolean>;
  reviewItem(id: string): Promise<ReviewItemRow | undefined>;
  reviewItems(status: ReviewStatus | 'all', limit: number): Promise<ReviewItemRow[]>;
  /** Applies a decision if `version` is current and the item open; returns the updated row or undefined. */
  decideReviewItem(id: string, version: number, status: Exclude<ReviewStatus, 'open'>, actor: string): Promise<ReviewItemRow | undefined>;
  insertMerge(merge: Omit<MergeRow, 'createdAt' | 'undoneAt'>): Promise<void>;
  /** Merges into `epid` not undone, newest first. */
  mergesInto(epid: string): Promise<MergeRow[]>;
  markMergeUndone(id: string): Promise<void>;
  /** Set-based variants for a chunk (one statement each). */
  linksOf(recordIds: string[]): Promise<Map<string, RecordLink>>;
  /** Persons and whom they were merged into (follow `mergedInto` for the current person). */
  persons(epids: string[]): Promise<Map<string, PersonRow>>;
  /** Inserts active persons; returns those that did not exist before. */
  createPersons(epids: string[]): Promise<Set<string>>;
  saveLinks(links: RecordLink[]): Promise<void>;
  insertReviewItems(items: ReviewItemInput[]): Promise<number>;
  /**
   * A matched chunk's records (with persons and keys), links and review items, one multi-row write each.
   * `deferred`: written by the transaction's closing statement instead (`UnitOfWork.deferWrite`), one
   * round trip less each — only for a caller that reads none of these rows back in the transaction.
   */
  saveChunk(chunk: ChunkOutcome, options?: { deferred?: boolean }): Promise<void>;
  /** The newest name-frequency snapshot's counts, or undefined before the first refresh. */
  latestFrequencySnapshot(): Promise<{ version: string; counts: NameCounts } | undefined>;
  saveFrequencySnapshot(version: string, counts: NameCounts): Promise<void>;
}
