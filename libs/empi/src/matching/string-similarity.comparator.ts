import jaroWinkler from 'talisman/metrics/jaro-winkler';
import damerauLevenshtein from 'talisman/metrics/damerau-levenshtein';
import type { PhoneticCodes } from '../record/person-record.normalizer';

/** Jaro-Winkler similarity in [0,1] (talisman; boost threshold 0.7, prefix scale 0.1 — Winkler's defaults). */
export function jaroWinklerSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  if (!a || !b) return 0;
  return jaroWinkler(a, b);
}

/**
 * True when a and b are within one edit: substitution, insertion, deletion or
 * a transposition of adjacent characters (restricted Damerau-Levenshtein ≤ 1).
 * Written out because it is the inner loop for dates, postcodes and ids and a
 * full DP matrix per comparison is wasted work when only "≤ 1" matters.
 */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    // substitution: rest equal after skipping one; transposition: swapped pair then rest equal
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return i + 1 < la && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** True when a and b are at most two edits apart (Damerau-Levenshtein, talisman's bounded version). */
export function withinTwoEdits(a: string, b: string): boolean {
  return damerauLevenshtein.limited(2, a, b) <= 2;
}

/** Phonetic agreement: any double-metaphone code shared, or equal NYSIIS keys. */
export function phoneticAgree(a: PhoneticCodes | undefined, b: PhoneticCodes | undefined, metaphoneOnly = false): boolean {
  if (!a || !b) return false;
  if (a.metaphone !== '' && (a.metaphone === b.metaphone || a.metaphone === b.metaphoneAlt)) return true;
  if (a.metaphoneAlt !== '' && (a.metaphoneAlt === b.metaphone || a.metaphoneAlt === b.metaphoneAlt)) return true;
  // NYSIIS folds too much for short given names (jon / james → JAN); given names use metaphone only.
  return !metaphoneOnly && a.nysiis !== '' && a.nysiis === b.nysiis;
}
