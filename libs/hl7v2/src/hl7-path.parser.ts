import { Hl7PathError } from './hl7-parse.error';

/**
 * A parsed accessor path. Indices are 1-based like the HL7 spec; `undefined`
 * means "not given" (first for `get`, all for `getAll` where that applies).
 */
export interface Hl7Path {
  readonly segment: string;
  readonly occurrence?: number;
  readonly field: number;
  readonly repetition?: number;
  readonly component?: number;
  readonly subcomponent?: number;
}

const PATH = /^([A-Z][A-Z0-9]{2})(?:\((\d+)\))?[-.](\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?$/;
const cache = new Map<string, Hl7Path>();
const CACHE_LIMIT = 1024;

/**
 * Parses `SEG[(occurrence)]-field[[repetition]][.component[.subcomponent]]`,
 * e.g. `PID-3[2].1`, `PID-5.1.1`, `OBX(2)-5`. `PID.3` is accepted too.
 * Paths are cached because callers use a handful of constant paths per message.
 */
export function parseHl7Path(path: string): Hl7Path {
  const hit = cache.get(path);
  if (hit) return hit;
  const m = PATH.exec(path);
  if (!m) throw new Hl7PathError(path, 'expected SEG[(n)]-field[[rep]][.component[.subcomponent]]');
  const num = (s: string | undefined, what: string): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new Hl7PathError(path, `${what} must be a positive integer`);
    return n;
  };
  const parsed: Hl7Path = {
    segment: m[1],
    occurrence: num(m[2], 'segment occurrence'),
    field: num(m[3], 'field') as number,
    repetition: num(m[4], 'repetition'),
    component: num(m[5], 'component'),
    subcomponent: num(m[6], 'subcomponent'),
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(path, parsed);
  return parsed;
}
