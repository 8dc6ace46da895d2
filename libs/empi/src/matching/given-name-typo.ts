import { usNameFrequencySeed } from '../frequency/name-frequency.model';
import { NICKNAME_CANON, areNicknames } from '../record/name-nickname.data';
import { phoneticCodes, remembered } from '../record/person-record.normalizer';
import { jaroWinklerSimilarity, withinOneEdit, withinTwoEdits } from './string-similarity.comparator';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** A Census-listed given name (the public-domain seed, not the index: the index holds typos too). */
const isListedGivenName = (name: string): boolean => usNameFrequencySeed().given.has(name);

/** Whether two names share their primary metaphone code (an alternate code agreeing is not enough). */
const samePrimaryCode = (a: string, b: string): boolean => phoneticCodes(a).metaphone === phoneticCodes(b).metaphone;

/** Calls `visit` with every string one edit (substitution, insertion, deletion, adjacent transposition) from `name`. */
function forEachOneEditFrom(name: string, visit: (variant: string) => void): void {
  for (let i = 0; i <= name.length; i++) {
    const head = name.slice(0, i);
    const tail = name.slice(i);
    for (const c of LETTERS) visit(head + c + tail);
    if (i < name.length) {
      visit(head + name.slice(i + 1));
      for (const c of LETTERS) visit(head + c + name.slice(i + 1));
      if (i + 1 < name.length) visit(head + name[i + 1] + name[i] + name.slice(i + 2));
    }
  }
}

/** The Census given names one edit from `name`. */
const listedNamesOneEditFrom = remembered((name: string): ReadonlySet<string> => {
  const found = new Set<string>();
  forEachOneEditFrom(name, (v) => { if (v !== name && isListedGivenName(v)) found.add(v); });
  return found;
}, 20_000);

/** The names of the nickname table one edit from `name` ("pat" from "ipat", "chuck" from "huck"). */
const nicknameTableNamesOneEditFrom = remembered((name: string): ReadonlySet<string> => {
  const found = new Set<string>();
  forEachOneEditFrom(name, (v) => { if (v !== name && NICKNAME_CANON.has(v)) found.add(v); });
  return found;
}, 20_000);

/**
 * `typo` is a name no list knows that is one edit from a nickname of `name` (or from `name` itself): a
 * nickname keyed with a typo — "ipat" for Patricia, "huck" for Charles (Chuck). The given-name levels
 * compare the strings and read these as two names.
 */
function typoOfNickname(typo: string, name: string): boolean {
  if (!NICKNAME_CANON.has(name) || typo.length < 3 || NICKNAME_CANON.has(typo) || isListedGivenName(typo)) return false;
  for (const near of nicknameTableNamesOneEditFrom(typo)) if (near === name || areNicknames(near, name)) return true;
  return false;
}

/**
 * What a given name could have been meant as: a Census given name stands for itself; a name not in the lists
 * stands for the listed names one edit from it, or for anything when there is none (a mangled name).
 */
function meantAs(name: string): ReadonlySet<string> | 'anything' {
  if (isListedGivenName(name)) return new Set([name]);
  const near = listedNamesOneEditFrom(name);
  return near.size === 0 ? 'anything' : near;
}

/** The two names can stand for the same listed name; `anything` when a mangled name leaves it open. */
function canMeanTheSameName(a: string, b: string): boolean | 'anything' {
  const ma = meantAs(a);
  const mb = meantAs(b);
  if (ma === 'anything' || mb === 'anything') return 'anything';
  for (const name of ma) if (mb.has(name)) return true;
  return false;
}

/**
 * Whether a given-name difference is explained — one name keyed differently — where the comparison level
 * alone misjudges it; `undefined` where the level decides (exact, nickname, initial, one edit).
 *
 * - Two records of one person that each carry a typo are two edits from each other ("sphane" and "yshane"
 *   for shane), as is a name with two typos ("mqnule" for manuel): levels `jw>=0.80` / `else`, yet one name.
 *   Explained when the names are at most two edits apart, not both real names, and can stand for the same
 *   listed name. "davte" (one edit from dave) against "dale" stays unexplained: Dave and Dale may be twins.
 * - A metaphone agreement through an alternate code ("phillim" and "william" both give FLM, "ueoy" and "joe"
 *   both A) is no spelling variant when a typo'd name plainly stands for another name: level `phonetic`
 *   is explained only for two real names spelt alike (katherine / catherine, kathryn / katherine) or names
 *   that can stand for the same one.
 * - Two names of the nickname table that share no group are two names at any level: Timmy and Tommy
 *   (Timothy, Thomas) are one edit apart and read `jw>=0.92`, yet twins are named so (TS generator seed 1016).
 */
export function givenNamesExplained(a: string | undefined, b: string | undefined, level: string | undefined): boolean | undefined {
  if (!a || !b || a === b) return undefined;
  if (level !== 'nickname' && level !== 'initial' && namesOfTwoNicknameGroups(a, b)) return false;
  if (level === 'phonetic') {
    // Two real names agreeing only through an alternate code are two names (Joanne's alternate AN is Anna's
    // primary): twins Joanne and Anna are not one name spelt two ways. Primary codes agreeing (Katherine and
    // Catherine, Steven and Stephen) are — when also spelt alike (`spellingVariants`): Jeanette and Juanita,
    // Kristine and Krystal share a primary code (JNT, KRST) and are two names (second generator: twins).
    if (isListedGivenName(a) && isListedGivenName(b)) return samePrimaryCode(a, b) && spellingVariants(a, b);
    const same = canMeanTheSameName(a, b);
    // A mangled name proves nothing either way: only the primary codes agreeing count ("ueoy" and "joe"
    // share only joe's alternate code A).
    return same === 'anything' ? samePrimaryCode(a, b) : same;
  }
  if (level !== 'jw>=0.80' && level !== 'else') return undefined;
  if (typoOfNickname(a, b) || typoOfNickname(b, a)) return true;
  if (Math.min(a.length, b.length) < 3 || !withinTwoEdits(a, b)) return false;
  if (isListedGivenName(a) && isListedGivenName(b)) return false;
  return canMeanTheSameName(a, b) !== false;
}

/**
 * Spelt alike: at most two edits apart (Steven / Stephen, Mary / Maria), or Jaro-Winkler ≥ 0.9 where the
 * spellings part further (Kathryn / Katherine, 0.905). Jeanette / Juanita and Kristine / Krystal (0.69) are not.
 */
function spellingVariants(a: string, b: string): boolean {
  return withinTwoEdits(a, b) || jaroWinklerSimilarity(a, b) >= 0.9;
}

/** Both names belong to the nickname table and to no common group (Timmy of Timothy, Tommy of Thomas). */
function namesOfTwoNicknameGroups(a: string, b: string): boolean {
  return NICKNAME_CANON.has(a) && NICKNAME_CANON.has(b) && !areNicknames(a, b);
}

/**
 * Two different given names that are both real (Census-listed) names and not spellings of one name:
 * Kayla and Gayle, Christine and Kristen, Ella and Emma — but not Briana and Brianna or Jon and John
 * (one edit apart and pronounced alike: one name, spelt two ways).
 */
export function differentListedGivenNames(a: string | undefined, b: string | undefined): boolean {
  return twoListedGivenNames(a, b) && !(withinOneEdit(a!, b!) && samePrimaryCode(a!, b!));
}

/** Two different given names that are both real (Census-listed) names, spellings of one name included (Karin and Karen). */
export function twoListedGivenNames(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && a !== b && isListedGivenName(a) && isListedGivenName(b);
}
