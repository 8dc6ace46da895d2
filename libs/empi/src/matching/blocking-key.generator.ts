import { identifierSelected, type MatchConfig } from './match-config.model';
import type { NormalizedRecord } from '../record/person-record.normalizer';

/**
 * Blocking keys: plain strings so any store can index them (a b-tree on
 * `empi_blocking_key.key` in PostgreSQL). Each key is one "door" to the
 * candidate set; several doors keep recall high when any single field is
 * missing or mistyped, the candidate limit keeps the work bounded.
 *
 *   r:   record id (an update of a record we already hold)
 *   mr:  record identifier (MRN) of an assigning authority
 *   id:  trusted / compared identifier (SSN, national id)
 *   fy:  metaphone of the family name + birth year, and of the given name + birth year (one kind, so a
 *        record keyed given/family swapped shares it; the same names and year share two)
 *   gd:  given initial + full date of birth
 *   pf:  postcode + first 3 letters of family name
 *   ph:  phone (last 9 digits)
 *   d:   full date of birth
 *   nm:  sorted metaphones of given and family (catches transposed names)
 *   nmd: `nm` + birth month and day — with `nm` it makes a record that moved (address, phone and postcode
 *        all new) and whose birth year was keyed a digit off a candidate, where `nm` alone is one weak key
 *   ss:  street number + street prefix + suburb initial
 *   st:  street number + full street, from either address line (lines get swapped between sources)
 *   ida: identifier digits sorted (one transposition of two digits — a common keying error — keeps the key; weak evidence, see below)
 *
 * No `pg:` (postcode + first 3 letters of given name) any more: every pair it found was found by the
 * others (a changed family name still shares the birth date's `d:` and `gd:`), so it cost a key insert
 * per record and a probe per search — about a tenth of both — for nothing. Dropped, precision, recall, F1
 * and review count were unchanged on generated seeds 1–6, 31, 47, 61, 101, 202 and 303 and on seed 47
 * against a 100k index (SQL path), and the FEBRL dataset1/2 `rec_id,epid` output byte-identical. Stored `pg:` rows of an older index
 * are never probed again and leave with their record's next save.
 */
/**
 * Kinds of key that point at one person on their own (a record id, an MRN, an SSN, a phone):
 * sharing one of them is enough to make a record a candidate. Every other kind (a birth date, a
 * surname code with a birth year, a postcode with a name prefix) is shared by thousands of
 * strangers in a large index, so one of them alone is weak evidence.
 *
 * `ida` (an identifier's digits sorted) is not identifying: nine digits sorted leave about 48,620
 * distinct values, so at 100k persons one is shared by dozens of strangers (all-distinct digits: ~36).
 * Counted as identifying it made 48 % of all scored pairs on generated seed 47 against a 100k index, none
 * of them reaching `lower`. It still counts 1: a transposed SSN plus any other shared key is a candidate.
 */
export const IDENTIFYING_KEY_KINDS: readonly string[] = ['r', 'mr', 'id', 'ph'];

/** How much one shared key counts towards candidacy: 2 for identifying kinds, 1 for the rest. */
export function keyEvidence(key: string): number {
  return IDENTIFYING_KEY_KINDS.includes(key.slice(0, key.indexOf(':'))) ? 2 : 1;
}

export function blockingKeys(record: NormalizedRecord, config: Pick<MatchConfig, 'recordIdentifierTypes' | 'trustedIdentifiers' | 'comparedIdentifiers'>): string[] {
  const keys = new Set<string>();
  keys.add(`r:${record.recordId}`);
  for (const id of record.identifiers) {
    if (id.type && config.recordIdentifierTypes.some((t) => t.toUpperCase() === id.type)) keys.add(`mr:${id.system}|${id.value}`);
    if (identifierSelected(id, config.trustedIdentifiers) || identifierSelected(id, config.comparedIdentifiers)) {
      keys.add(`id:${id.system}|${id.value}`);
      if (id.value.length >= 6) keys.add(`ida:${id.system}|${[...id.value].sort().join('')}`);
    }
  }
  const family = record.familyName;
  const given = record.givenName;
  const dob = record.birthDate;
  const fullDob = dob && dob.precision === 'day' && dob.compact.length === 8 ? dob.compact : undefined;
  const famCode = record.familyPhonetic?.metaphone || family;
  const givenCode = record.givenPhonetic?.metaphone || given;
  // Both names' codes under one kind: a record keyed given/family swapped shares the key with its person.
  if (famCode && dob) keys.add(`fy:${famCode}|${dob.year}`);
  if (givenCode && dob) keys.add(`fy:${givenCode}|${dob.year}`);
  if (given && fullDob) keys.add(`gd:${given[0]}|${fullDob}`);
  if (family && record.postcode) keys.add(`pf:${record.postcode}|${family.slice(0, 3)}`);
  if (record.phone && record.phone.length >= 7) keys.add(`ph:${record.phone.slice(-9)}`);
  if (fullDob) keys.add(`d:${fullDob}`);
  if (famCode && givenCode) {
    const names = [famCode, givenCode].sort().join('|');
    keys.add(`nm:${names}`);
    if (fullDob) keys.add(`nmd:${names}|${fullDob.slice(4)}`);
  }
  if (record.streetNumber && record.street && record.suburb) keys.add(`ss:${record.streetNumber}|${record.street.slice(0, 4)}|${record.suburb[0]}`);
  if (record.streetNumber) {
    if (record.street) keys.add(`st:${record.streetNumber}|${record.street}`);
    if (record.line2) keys.add(`st:${record.streetNumber}|${record.line2}`);
  }
  return [...keys];
}
