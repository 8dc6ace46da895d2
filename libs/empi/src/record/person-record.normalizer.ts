import doubleMetaphone from 'talisman/phonetics/double-metaphone';
import nysiis from 'talisman/phonetics/nysiis';
import soundex from 'talisman/phonetics/soundex';
import { InvalidPersonRecordError } from '../empi.errors';
import type { PersonIdentifier, PersonRecord } from './person-record.model';

/** Parsed date of birth; `precision` says how much of it the source sent. */
export interface NormalizedBirthDate {
  year: string;
  month?: string;
  day?: string;
  /** `YYYYMMDD` when complete, else the digits present. */
  compact: string;
  precision: 'day' | 'month' | 'year';
}

export interface NormalizedIdentifier {
  system: string;
  value: string;
  type?: string;
}

/**
 * A record in the form comparisons and blocking work on: lower-case ASCII,
 * single spaces, no punctuation, phonetic codes precomputed once per record
 * (the hot loop compares one record with many candidates).
 */
export interface NormalizedRecord {
  recordId: string;
  sourceSystem?: string;
  identifiers: NormalizedIdentifier[];
  givenName?: string;
  familyName?: string;
  middleName?: string;
  givenPhonetic?: PhoneticCodes;
  familyPhonetic?: PhoneticCodes;
  birthDate?: NormalizedBirthDate;
  sex?: 'm' | 'f' | 'o' | 'u';
  streetNumber?: string;
  street?: string;
  line2?: string;
  suburb?: string;
  postcode?: string;
  state?: string;
  phone?: string;
}

export interface PhoneticCodes {
  metaphone: string;
  metaphoneAlt: string;
  nysiis: string;
  soundex: string;
}

const DIACRITICS = /[\u0300-\u036f]/g;

/**
 * A pure string function remembered for the values seen last. Names, streets and cities repeat
 * across records, and every candidate read back from the store is normalised again: at 100k
 * persons the phonetic codes and text folding were the biggest share of matching time. Bounded:
 * the table is dropped when full (values are cheap to recompute). Results are shared, so they
 * must never be mutated.
 */
export function remembered<T>(fn: (value: string) => T, capacity = 50_000): (value: string) => T {
  let table = new Map<string, T>();
  return (value) => {
    let result = table.get(value);
    if (result === undefined && !table.has(value)) {
      result = fn(value);
      if (table.size >= capacity) table = new Map();
      table.set(value, result);
    }
    return result as T;
  };
}

const foldText = remembered((value: string): string | undefined => {
  const text = value
    .normalize('NFKD')
    .replace(DIACRITICS, '')
    .toLowerCase()
    .replace(/['’`]/g, '') // o'brien → obrien, not "o brien"
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  return text === '' ? undefined : text;
});

/** Lower-case, strip diacritics and punctuation, collapse whitespace; `undefined` for blank. */
export function normalizeText(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  return foldText(String(value));
}

/** Names additionally lose inner spaces so "van der berg" and "vanderberg" agree. */
export function normalizeName(value: string | undefined | null): string | undefined {
  const text = normalizeText(value);
  return text === undefined ? undefined : text.replace(/ /g, '');
}

export function normalizeDigits(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const digits = String(value).replace(/\D+/g, '');
  return digits === '' ? undefined : digits;
}

/** Phone: digits only; a leading international/trunk prefix is not stripped (locale-specific), compared on the last digits instead. */
export function normalizePhone(value: string | undefined | null): string | undefined {
  return normalizeDigits(value);
}

/**
 * A date of birth as sources write it: `YYYYMMDD`, ISO `YYYY-MM-DD` (a time part is ignored),
 * `YYYY/M/D`, partial `YYYY-MM` and `YYYY`, and the US `M/D/YYYY` (also with dashes). A slashed
 * date whose first part cannot be a month is read day first (`31/12/1980`), and a dotted one is
 * day first as in Europe (`31.12.1980`).
 */
export function normalizeBirthDate(value: string | undefined | null): NormalizedBirthDate | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  if (text === '') return undefined;
  let m = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ][\d:.]*(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (m) return fullDate(m[1], m[2], m[3]);
  m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text);
  if (m) return fullDate(m[1], m[2], m[3]);
  m = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$/.exec(text);
  if (m) {
    const dayFirst = m[2] === '.' || (Number(m[1]) > 12 && Number(m[3]) <= 12);
    return dayFirst ? fullDate(m[4], m[3], m[1]) : fullDate(m[4], m[1], m[3]);
  }
  m = /^(\d{4})-(\d{2})$/.exec(text) ?? /^(\d{4})(\d{2})$/.exec(text);
  if (m) return { year: m[1], month: m[2], compact: `${m[1]}${m[2]}`, precision: 'month' };
  m = /^(\d{4})$/.exec(text);
  if (m) return { year: m[1], compact: m[1], precision: 'year' };
  // Anything else (typo'd lengths from keying errors) keeps its digits so a
  // one-character comparison can still credit it; the year is a best guess.
  const digits = text.replace(/\D+/g, '');
  if (digits.length < 4) return undefined;
  return { year: digits.slice(0, 4), compact: digits, precision: digits.length >= 8 ? 'day' : 'year' };
}

function fullDate(year: string, month: string, day: string): NormalizedBirthDate {
  const mm = month.padStart(2, '0');
  const dd = day.padStart(2, '0');
  return { year, month: mm, day: dd, compact: `${year}${mm}${dd}`, precision: 'day' };
}

function normalizeSex(value: string | undefined): NormalizedRecord['sex'] {
  const s = normalizeText(value);
  if (!s) return undefined;
  if (s === 'm' || s === 'male' || s === 'man') return 'm';
  if (s === 'f' || s === 'female' || s === 'woman') return 'f';
  if (s === 'u' || s === 'unknown' || s === 'unk') return undefined; // unknown is missing, not a value
  return 'o';
}

function normalizeIdentifier(id: PersonIdentifier): NormalizedIdentifier | undefined {
  const value = String(id.value ?? '').toUpperCase().replace(/[^A-Z0-9]+/g, '');
  if (!value || !id.system) return undefined;
  return { system: id.system.trim().toLowerCase(), value, type: id.type?.toUpperCase() };
}

/** Phonetic codes of a normalised name (remembered: shared, read-only objects). */
export const phoneticCodes: (name: string) => PhoneticCodes = remembered((name) => {
  const [metaphone, metaphoneAlt] = doubleMetaphone(name);
  return Object.freeze({ metaphone, metaphoneAlt, nysiis: nysiis(name), soundex: soundex(name) });
});

export function normalizeRecord(record: PersonRecord): NormalizedRecord {
  if (!record || typeof record.recordId !== 'string' || record.recordId.trim() === '') {
    throw new InvalidPersonRecordError('person record needs a non-empty recordId');
  }
  const givenName = normalizeName(record.givenName);
  const familyName = normalizeName(record.familyName);
  const address = record.address ?? {};
  return {
    recordId: record.recordId,
    sourceSystem: record.sourceSystem,
    identifiers: (record.identifiers ?? []).map(normalizeIdentifier).filter((i): i is NormalizedIdentifier => i !== undefined),
    givenName,
    familyName,
    middleName: normalizeName(record.middleName),
    givenPhonetic: givenName ? phoneticCodes(givenName) : undefined,
    familyPhonetic: familyName ? phoneticCodes(familyName) : undefined,
    birthDate: normalizeBirthDate(record.birthDate),
    sex: normalizeSex(record.sex),
    streetNumber: normalizeText(address.streetNumber)?.replace(/ /g, ''),
    street: normalizeText(address.street),
    line2: normalizeText(address.line2),
    suburb: normalizeText(address.suburb ?? address.city),
    postcode: normalizeText(address.postcode)?.replace(/ /g, ''),
    state: normalizeText(address.state),
    phone: normalizePhone(record.phone),
  };
}
