import { usNameFrequencySeed } from '../frequency/name-frequency.model';
import { withinTwoEdits } from './string-similarity.comparator';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const nearCache = new Map<string, ReadonlySet<string>>();

/** The Census given names one edit (substitution, insertion, deletion, adjacent transposition) from `name`. */
function knownNamesOneEditFrom(name: string): ReadonlySet<string> {
  let near = nearCache.get(name);
  if (near) return near;
  const known = usNameFrequencySeed().given;
  const found = new Set<string>();
  const consider = (v: string) => { if (v !== name && known.has(v)) found.add(v); };
  for (let i = 0; i <= name.length; i++) {
    const head = name.slice(0, i);
    const tail = name.slice(i);
    for (const c of LETTERS) consider(head + c + tail);
    if (i < name.length) {
      consider(head + name.slice(i + 1));
      for (const c of LETTERS) consider(head + c + name.slice(i + 1));
      if (i + 1 < name.length) consider(head + name[i + 1] + name[i] + name.slice(i + 2));
    }
  }
  near = found;
  // Bounded: the table is dropped when full (cheap to recompute).
  if (nearCache.size >= 20_000) nearCache.clear();
  nearCache.set(name, near);
  return near;
}

/**
 * Two given names more than one edit apart that are still one name keyed twice: two records of one person
 * that each carry a typo are two edits from each other ("sphane" and "yshane" for shane), and a name with two
 * typos is two edits from the real one ("mqnule" for manuel). The twin and sibling rule must not read those as
 * two people; a twin's or sibling's name is a real, different name.
 *
 * Each name stands for what it could have been meant as: a Census given name stands for itself; a name not in
 * the lists stands for the listed names one edit from it, or for anything when there is none (a mangled name).
 * The pair is one name keyed twice when those meanings meet: "davte" (one edit from dave) against "dale"
 * stays a conflict — dave and dale may be twins — and two real names always do.
 */
export function givenNamesTypoApart(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a === b || Math.min(a.length, b.length) < 3 || !withinTwoEdits(a, b)) return false;
  const known = usNameFrequencySeed().given;
  const aKnown = known.has(a);
  const bKnown = known.has(b);
  if (aKnown && bKnown) return false;
  const meant = (name: string, isKnown: boolean): ReadonlySet<string> | 'anything' => {
    if (isKnown) return new Set([name]);
    const near = knownNamesOneEditFrom(name);
    return near.size === 0 ? 'anything' : near;
  };
  const ma = meant(a, aKnown);
  const mb = meant(b, bKnown);
  if (ma === 'anything' || mb === 'anything') return true;
  for (const name of ma) if (mb.has(name)) return true;
  return false;
}
