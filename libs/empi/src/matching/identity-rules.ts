import { COMPARISON_LEVELS, COMPARISON_NAMES, type ComparisonName, type MatchConfig } from './match-config.model';
import { MISSING, type ComparisonVector } from './record-comparison.comparator';

/**
 * Rules that correct the Fellegi–Sunter independence assumption where it is
 * most dangerous: households. Twins, siblings, parents and spouses share a
 * family name, an address, a phone and often a birth date or year; summing
 * those agreements as independent evidence makes two people look like one.
 */
export type IdentityRuleName = 'given-name-conflict' | 'sex-conflict' | 'household-relative' | 'sibling-identifier-conflict' | 'core-identity-conflict' | 'no-individual-anchor' | 'family-and-address-changed' | 'individual-evidence-conflict' | 'birth-date-and-name-apart' | 'moved-and-birth-date-near';

export interface IdentityRuleFinding {
  rule: IdentityRuleName;
  /** log2 weight added to the score (0 for rules that only forbid an auto-link). */
  weight: number;
  /** True: this pair can never be auto-linked, whatever the score. */
  blocksAutoLink: boolean;
  reason: string;
}

const IDX = Object.fromEntries(COMPARISON_NAMES.map((n, i) => [n, i])) as Record<ComparisonName, number>;
const level = (v: ComparisonVector, field: ComparisonName): string | undefined =>
  v[IDX[field]] === MISSING ? undefined : (COMPARISON_LEVELS[field] as readonly string[])[v[IDX[field]]];

/** Given-name levels that a nickname, initial, typo or spelling variant explains. */
const EXPLAINED_GIVEN = new Set(['exact', 'nickname', 'initial', 'jw>=0.92', 'phonetic']);
const FAMILY_AGREES = new Set(['exact', 'jw>=0.92', 'phonetic', 'jw>=0.80']);

/** What the comparison vector cannot say about the pair, computed from the values. */
export interface PairContext {
  /** Whether the given-name difference is one name keyed differently, where the level alone misjudges it (`givenNamesExplained`, given-name-typo.ts). */
  givenExplained?: boolean;
  /** The given names are two different real (Census-listed) names, not one name spelt two ways (`differentListedGivenNames`). */
  differentListedGivenNames?: boolean;
  /** The given names are two different real (Census-listed) names, spellings of one name included (`twoListedGivenNames`). */
  twoListedGivenNames?: boolean;
  /** Years between the two birth years, when both records carry one. */
  birthYearGap?: number;
  /** With both names agreeing exactly: the share of persons carrying the full name (given × family frequency). */
  fullNameShare?: number;
}

/**
 * A birth-year gap this wide is a generation: parent and child (Jr/Sr). A keying error that moves a year
 * this far and leaves no one-edit trace (a transposed 1969/1996 is one edit) is far rarer than a child
 * named after a parent, so the relative rule weighs double there: such a pair goes to review only when the
 * rest of the evidence is overwhelming, instead of filling the review queue with every Jr/Sr household.
 */
export const GENERATION_GAP_YEARS = 12;

/**
 * A full name (given × family frequency) this common is carried by one person in 100,000: an index of a
 * million holds ten of them, and one born a keying error away from another is no rarity. Chosen on TS
 * generator seeds 9401–9430 and second-generator seeds 9401–9415 (where the false merges were found): 1e-6
 * cost about three times the recall for the same precision, 3e-5 left one of the three; checked on unseen seeds
 * 9501–9530 and 9501–9515: one false pair fewer, recall −0.0004 and −0.0013, review +0.01 and +0.04 points.
 */
export const COMMON_FULL_NAME_SHARE = 1e-5;

export function identityRules(vector: ComparisonVector, config: Pick<MatchConfig, 'householdRules'>, pair: PairContext = {}): IdentityRuleFinding[] {
  const findings: IdentityRuleFinding[] = [];
  const family = level(vector, 'familyName');
  const given = level(vector, 'givenName');
  const dob = level(vector, 'birthDate');
  const sex = level(vector, 'sex');
  const familyAgrees = family !== undefined && FAMILY_AGREES.has(family);
  const givenConflict = given !== undefined && !(pair.givenExplained ?? EXPLAINED_GIVEN.has(given));
  const sexConflict = sex === 'else';
  const street = level(vector, 'street');
  const postcode = level(vector, 'postcode');
  // A street name agreeing is one address only with the house number or the postcode agreeing too: Johnny James
  // and Jean Brown, one birth date, at 4796 and 7959 Jefferson St in two Denver postcodes, are neighbours at most
  // (second generator seed 9401), and a common street name in a city is shared by thousands.
  const streetAgrees = (street === 'exact' || street === 'jw>=0.88') && (level(vector, 'streetNumber') !== 'else' || postcode === 'exact' || postcode === 'one-digit');
  const addressAgrees = streetAgrees || level(vector, 'phone') === 'exact' ||
    (level(vector, 'streetNumber') === 'exact' && postcode === 'exact');
  const sameBirth = dob === 'exact' || dob === 'day-month-swapped';
  // A personal identifier (SSN) agreeing is evidence about this individual, not the household:
  // twins and siblings never share one, so the household rules stand down.
  const nationalId = level(vector, 'nationalId');
  const sameIndividualId = nationalId === 'exact' || nationalId === 'one-digit';

  const household = familyAgrees && !sameIndividualId && (sameBirth || addressAgrees || dob === 'year-only');
  if (household && givenConflict) {
    findings.push({
      rule: 'given-name-conflict', weight: config.householdRules.givenConflictWeight, blocksAutoLink: true,
      reason: 'same family name and birth date or address, given name disagrees with no nickname, initial, typo or swap to explain it (twin, sibling)',
    });
  }
  // Two different real given names with the recorded sex disagreeing are two people whatever else agrees: Eric
  // McCormick and Ericka Smith at one address, born a month apart, scored the upper threshold on the address
  // and the alike names (TS generator seed 29), where the family names differing kept the household reading silent.
  const namedApart = !sameIndividualId && pair.differentListedGivenNames;
  if (sexConflict && (household || namedApart)) {
    findings.push({
      rule: 'sex-conflict', weight: config.householdRules.sexConflictWeight, blocksAutoLink: true,
      reason: household
        ? 'same family name and birth date or address, recorded sex disagrees (twin, sibling, spouse)'
        : 'recorded sex disagrees and the given names are two different real names (Eric and Ericka): two people',
    });
  }
  // Twins are often named alike on purpose (Kayla and Gayle, Christine and Kristen, Carol and Carolyn): two
  // real names a spelling or prefix apart, which the given-name levels read as one name keyed twice. Both
  // carrying an SSN that disagrees outright (not a digit off, not a transposition) tells them apart. Only for
  // two listed names: a typo'd name ("lachan") with a replaced SSN is a duplicate in FEBRL's error model.
  // An initial is as compatible with a twin's name as with one's own ("R" for Raymond or for his twin Russell):
  // with two SSNs disagreeing outright it cannot be the tie-breaker either.
  // Sisters a birth-date digit apart at one address, two real names ("Karin" and "Karen", "June" and "Joanne")
  // and two SSNs disagreeing outright: that the names are alike and the dates near proves nothing then.
  const alikeNearSiblings = dob === 'one-digit' && addressAgrees && pair.twoListedGivenNames;
  const ssnsApart = familyAgrees && nationalId === 'else' && !givenConflict && ((sameBirth && (pair.differentListedGivenNames || given === 'initial')) || alikeNearSiblings);
  // Possible twins with nothing individual tying them: one family, birth date and address, no SSN agreeing.
  const untiedTwins = familyAgrees && sameBirth && addressAgrees && !sameIndividualId;
  // Twins named a name and its diminutive (Susan and Sue, Mary and Mae): the nickname explains the names as one,
  // yet with no SSN tying the two and their phones disagreeing outright, the household reading is as likely —
  // a reviewer decides (TS generator seeds 25 and 38; a duplicate keyed by nickname with its phone replaced
  // goes to review too: 13 more review items over 112 seeds, recall −0.0001).
  const phonesApart = untiedTwins && given === 'nickname' && level(vector, 'phone') === 'else';
  // Twins named alike the other way: two real names the levels read as one spelt two ways (Mary and Maria,
  // Christina and Christine: alike, but not one edit of one name) — a reviewer decides. Held-out
  // second-generator seeds 4000–4029: false pairs 30 → 22, recall −0.0015.
  const alikeTwins = untiedTwins && !givenConflict && pair.differentListedGivenNames && given !== 'nickname' && given !== 'initial';
  const siblingReason = ssnsApart
    ? given === 'initial'
      ? 'same family name and birth date, one given name only an initial, and both SSNs present and different (the initial fits a twin as well)'
      : 'same family name and birth date, given names alike but not equal, and both SSNs present and different (twins named alike)'
    : phonesApart
      ? 'same family name, birth date and address, given names a name and its nickname, phones different and no SSN agreeing (twins named alike)'
      : alikeTwins
        ? 'same family name, birth date and address, given names two different real names written alike, and no SSN agreeing (twins named alike)'
        : undefined;
  if (siblingReason) findings.push({ rule: 'sibling-identifier-conflict', weight: 0, blocksAutoLink: true, reason: siblingReason });
  const generation = (pair.birthYearGap ?? 0) >= GENERATION_GAP_YEARS;
  // A birth date one digit off is a keying error — unless that digit moved the year a generation and both
  // SSNs disagree outright: then the two are a parent and a child named alike (Daniel Brown 1948 and 1978
  // at one address), and the one-digit reading only chains the father's 1958 typo to the son.
  const generationNamesake = dob === 'one-digit' && generation && nationalId === 'else';
  // The same birth year with the date further off than one digit ('year-only') is no parent or child: with the
  // given names agreeing it is a keying error ("2008-12-15" for 2008-02-16) unless both SSNs disagree outright
  // (two of one name born in one year at one address: Steve and Stephen Greer).
  const sameYearNamesake = dob === 'year-only' && nationalId === 'else';
  if (familyAgrees && addressAgrees && !sameIndividualId && !givenConflict && !sexConflict && (dob === 'else' || generationNamesake || sameYearNamesake)) {
    findings.push({
      rule: 'household-relative', weight: config.householdRules.relativeWeight * (generation ? 2 : 1), blocksAutoLink: true,
      reason: generation
        ? `same family name and address, birth years ${pair.birthYearGap} apart (a generation: parent/child, Jr/Sr)`
        : 'same family name and address, birth date disagrees beyond a typo (parent/child, Jr/Sr)',
    });
  }
  // Names and an address are shared by namesakes and households; an auto-link needs one anchor that is
  // about the individual: a birth date agreeing (or off by a keying error), the SSN, or a personal phone.
  const dobAnchors = dob === 'exact' || dob === 'day-month-swapped' || dob === 'one-digit';
  const personalAgrees = sameIndividualId || level(vector, 'phone') === 'exact';
  if (!dobAnchors && !personalAgrees) {
    findings.push({ rule: 'no-individual-anchor', weight: config.householdRules.noAnchorWeight, blocksAutoLink: true, reason: 'neither birth date, SSN nor phone agrees: names and address alone never auto-link' });
  }
  // Two strangers born the same day with a common first name agree on what carries most of the weight. The
  // same person after a marriage and a move looks alike, so a person decides: with the family name and the
  // address both disagreeing outright and neither SSN nor phone agreeing, the birth date alone never auto-links.
  if (family === 'else' && !addressAgrees && !personalAgrees) {
    findings.push({ rule: 'family-and-address-changed', weight: 0, blocksAutoLink: true, reason: 'family name and address both disagree and neither SSN nor phone agrees: a birth date and a given name alone never auto-link' });
  }
  // Moved, and born a keying error apart: a duplicate after a move with a typo in its birth date, or a namesake
  // born days away (Mark Allen of Tampa, 1991-01-22, and Mark Allen of Albuquerque, 1991-01-28; John Jenkins
  // 1969-01-04 and 1969-01-01 at two addresses; June and Jane Anderson — TS generator seeds 9402, 9423, 9403).
  // Which is likelier turns on the name: with a rare full name the move is, with a common one (or given names
  // that differ) the namesake is as likely — and with no SSN or phone tying them, a person decides.
  const namesakeLikely = pair.fullNameShare === undefined ? given !== 'exact' : pair.fullNameShare >= COMMON_FULL_NAME_SHARE;
  if (dob === 'one-digit' && namesakeLikely && !addressAgrees && !personalAgrees) {
    findings.push({
      rule: 'moved-and-birth-date-near', weight: 0, blocksAutoLink: true,
      reason: 'the address disagrees, the birth date agrees only to within a keying error, the name is common or differs, and neither SSN nor phone ties them: a namesake as likely as a move',
    });
  }
  // The SSN disagreeing outright, and one more thing about the individual too: one field replaced is a
  // duplicate's error; two at once are a sibling or a stranger — Tony and Wallace Chance, born months apart,
  // and twins Norman and Veronica Bradley, all keyed given/family swapped at one address and phone (second
  // generator seeds 44 and 59), where the family names disagreeing kept the household rules silent.
  const ssnApartReason = nationalId === 'else' ? secondIndividualDifference({ vector, given, dob, family: familyAgrees, address: addressAgrees, sexConflict, givenConflict, pair }) : undefined;
  if (ssnApartReason) {
    findings.push({ rule: 'individual-evidence-conflict', weight: 0, blocksAutoLink: true, reason: `both SSNs present and different, and ${ssnApartReason}: two people` });
  }
  // The birth dates share only the year and the given names differ: siblings born in one year, or strangers —
  // with no SSN to tie them, a person decides (Bert and Albert Williamson at one address and phone, second
  // generator seed 2026; a date keyed wrong beyond one digit and a nickname at once is no duplicate's usual error).
  if (dob === 'year-only' && !sameIndividualId && given !== 'exact') {
    findings.push({ rule: 'birth-date-and-name-apart', weight: 0, blocksAutoLink: true, reason: 'the birth dates share only the year and the given names differ, and no SSN ties them' });
  }
  let core = 0;
  for (const field of ['givenName', 'familyName', 'birthDate'] as const) if (vector[IDX[field]] === COMPARISON_LEVELS[field].length - 1) core += 1;
  if (pair.givenExplained && given === 'else') core -= 1;
  if (core >= 2) {
    findings.push({
      rule: 'core-identity-conflict', weight: sameIndividualId ? 0 : config.householdRules.coreConflictWeight, blocksAutoLink: true,
      reason: 'two of given name, family name and birth date disagree outright',
    });
  }
  return findings;
}

interface SecondDifference {
  vector: ComparisonVector;
  given: string | undefined;
  dob: string | undefined;
  /** The family names agree (exact, close or alike). */
  family: boolean;
  /** The address agrees (street, phone, or number and postcode). */
  address: boolean;
  sexConflict: boolean;
  givenConflict: boolean;
  pair: PairContext;
}

/**
 * With both SSNs present and different: what else about the individual differs, or undefined when nothing
 * does (then the SSN alone is one replaced field, a duplicate's error — FEBRL's error model replaces SSNs).
 * The clauses after sex and birth date each came from a false merge on a sweep of new seeds (TS generator
 * 1000–1039, second generator 2000–2029), and none costs FEBRL anything: a name typo of FEBRL's with a
 * replaced SSN is neither a real name, a nickname nor an initial, and FEBRL records carry no phone.
 */
function secondIndividualDifference(d: SecondDifference): string | undefined {
  if (d.sexConflict) return 'the recorded sex disagrees';
  if (d.dob === 'year-only' || d.dob === 'else') return 'the birth dates disagree beyond a keying error';
  if (level(d.vector, 'phone') === 'else') return 'the phones disagree outright too';
  // An initial or a nickname fits a sibling as well as oneself: "M." with her own SSN against her sister
  // Michelle's; Liam with his own SSN against his brother Billy's record (both William's nicknames).
  if (d.given !== undefined && d.given !== 'exact' && !d.givenConflict && (d.pair.differentListedGivenNames || d.given === 'nickname' || d.given === 'initial')) {
    return 'the given names are two real names, a nickname or an initial, each as fitting for a sibling';
  }
  const nearBirth = d.dob === 'one-digit' || d.dob === 'day-month-swapped';
  if (d.family && d.address && d.given !== 'exact' && nearBirth) return 'in one household the given name and the birth date both differ';
  if (d.dob !== 'exact' && !d.address) return 'the birth date and the address differ too';
  return undefined;
}
