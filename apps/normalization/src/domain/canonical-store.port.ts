import type { CanonicalEvent } from '@clinmesh/schemas';

/** What normalization last published for one input event (for replays after a map change). */
export interface PreviousPublication {
  lastEventId: string;
  supersedesEventId: string | null;
}

/** One canonical record as published, ready to store (its JSON is the typed record of the event). */
export interface PublishedRecord {
  type: string;
  id: string;
  changeType: string;
  correction: boolean;
  /** The typed record (absent for the envelope's primary `Message` placeholder). */
  record: unknown | null;
}

/**
 * Normalization's own store, written in the consumer's transaction: which
 * event each input produced, the index of canonical ids, the canonical
 * records themselves (served by the FHIR read API) and unmapped codes.
 */
export interface CanonicalStorePort {
  previousPublication(sourceEventId: string): Promise<PreviousPublication | null>;
  rememberPublication(sourceEventId: string, canonical: CanonicalEvent, fingerprint: string): Promise<void>;
  storeRecords(canonical: CanonicalEvent, records: PublishedRecord[]): Promise<void>;
  recordUnmapped(canonical: CanonicalEvent, recordIds: string[]): Promise<void>;
}

/** A stored canonical record as the read API sees it. */
export interface StoredCanonicalRecord {
  type: string;
  id: string;
  epid: string;
  record: unknown;
  /** Increases each time the record's content changes (the ETag). */
  version: number;
  lastEventId: string;
  updatedAt: string;
}

export interface CanonicalRecordReader {
  find(id: string): Promise<StoredCanonicalRecord | null>;
}
