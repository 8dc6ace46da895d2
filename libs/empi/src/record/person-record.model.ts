/**
 * The demographic record the EMPI matches. Everything except `recordId` is
 * optional because real feeds (ADT, lab orders, partner exchanges) send
 * whatever they have; missing values are neutral in scoring, never a penalty.
 */
export type IdentifierType = 'MR' | 'SS' | 'NI' | 'DL' | 'PPN' | 'PI' | (string & {});

export interface PersonIdentifier {
  /** Assigning authority / namespace (e.g. an OID or `hospital-a`). */
  system: string;
  value: string;
  /** HL7 v2 table 0203 identifier type code. */
  type?: IdentifierType;
}

export interface PersonAddress {
  streetNumber?: string;
  street?: string;
  line2?: string;
  suburb?: string;
  /** Treated as a synonym of suburb when suburb is absent. */
  city?: string;
  postcode?: string;
  state?: string;
}

export interface PersonRecord {
  /** Stable key of the source record: `source|assigning-authority|MRN`. */
  recordId: string;
  sourceSystem?: string;
  identifiers?: PersonIdentifier[];
  givenName?: string;
  familyName?: string;
  middleName?: string;
  /** `YYYY-MM-DD`, `YYYYMMDD`, or partial `YYYY` / `YYYY-MM`. */
  birthDate?: string;
  sex?: string;
  address?: PersonAddress;
  phone?: string;
}

/** A record as the candidate store hands it back: the record and the person it belongs to. */
export interface StoredRecord {
  recordId: string;
  personId: string;
  record: PersonRecord;
  /** How many of the query's blocking keys this record shares (stores rank by it). */
  sharedKeys?: number;
}
