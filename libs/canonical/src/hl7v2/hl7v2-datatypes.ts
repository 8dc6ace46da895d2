import type { Hl7Repetition, Hl7Segment } from '@clinmesh/hl7v2';
import type { Address, ContactPoint, HumanName, Identifier } from '@clinmesh/schemas';
import type { SourceCoding } from '../terminology/terminology-map';

/** Readers of HL7 v2 composite data types into canonical shapes (pure; absent → null/empty). */

export function text(v: string | undefined): string | null {
  return v === undefined || v === '' || v === '""' ? null : v;
}

export function reps(seg: Hl7Segment | undefined, field: number): Hl7Repetition[] {
  if (!seg) return [];
  return seg.field(field).repetitions.filter((r) => r.present && !r.isNull);
}

function comp(rep: Hl7Repetition, j: number, k = 1): string | null {
  const c = rep.component(j);
  // A component's value is its first subcomponent's, read without splitting it.
  return text(k === 1 ? c.value : c.subcomponent(k).value);
}

/** CE/CWE/CNE: primary triplet (1–3) and alternate triplet (4–6). */
export function codings(rep: Hl7Repetition | undefined): SourceCoding[] {
  if (!rep) return [];
  const out: SourceCoding[] = [];
  const primary = comp(rep, 1);
  if (primary) out.push({ code: primary, display: comp(rep, 2), system: comp(rep, 3) });
  const alternate = comp(rep, 4);
  if (alternate) out.push({ code: alternate, display: comp(rep, 5), system: comp(rep, 6) });
  return out;
}

export function codingsAt(seg: Hl7Segment | undefined, field: number): SourceCoding[] {
  return codings(reps(seg, field)[0]);
}

/** Text of a CWE (component 2, else 9 original text, else the code). */
export function cweText(rep: Hl7Repetition | undefined): string | null {
  if (!rep) return null;
  return comp(rep, 9) ?? comp(rep, 2) ?? null;
}

/** CX (PID-3) and EI identifiers. */
export function cxIdentifiers(seg: Hl7Segment | undefined, field: number, defaultType: string | null = null): Identifier[] {
  return reps(seg, field).flatMap((r) => {
    const value = comp(r, 1);
    if (!value) return [];
    return [{ value, system: comp(r, 4) ?? comp(r, 4, 2) ?? null, type: comp(r, 5) ?? defaultType }];
  });
}

export function eiIdentifier(seg: Hl7Segment | undefined, field: number, type: string): Identifier | null {
  const r = reps(seg, field)[0];
  const value = r ? comp(r, 1) : null;
  return value ? { value, system: comp(r!, 2) ?? comp(r!, 3) ?? null, type } : null;
}

const NAME_USE: Record<string, string> = { L: 'official', D: 'usual', M: 'maiden', N: 'nickname', A: 'anonymous', B: 'official', C: 'official', S: 'anonymous', T: 'temp' };

/** XPN: family (1.1), given (2), middle (3), suffix (4), prefix (5), degree (6), type (7). */
export function names(seg: Hl7Segment | undefined, field: number): HumanName[] {
  return reps(seg, field).flatMap((r) => {
    const family = comp(r, 1, 1);
    const given = [comp(r, 2), comp(r, 3)].filter((x): x is string => !!x);
    if (!family && !given.length) return [];
    const type = comp(r, 7);
    const calledBy = comp(r, 15);
    return [{
      family, given,
      prefix: [comp(r, 5)].filter((x): x is string => !!x),
      suffix: [comp(r, 4), comp(r, 6), comp(r, 14)].filter((x): x is string => !!x),
      use: type ? NAME_USE[type] ?? null : null,
    // XPN-15 "called by": a nickname, kept as its own name (not a given name).
    }, ...(calledBy ? [{ family, given: [calledBy], prefix: [], suffix: [], use: 'nickname' }] : [])];
  });
}

const ADDRESS_USE: Record<string, string> = { H: 'home', B: 'work', O: 'work', C: 'temp', BA: 'billing', M: 'home', P: 'home' };

/** XAD: street (1.1), other designation (2), city (3), state (4), zip (5), country (6), type (7). */
export function addresses(seg: Hl7Segment | undefined, field: number): Address[] {
  return reps(seg, field).flatMap((r) => {
    // SAD street (1.1), street name (1.2), dwelling number (1.3), other designation (2), addressee (19): every part is kept.
    const lines = [comp(r, 1, 1), r.component(1).subcomponents.length > 1 ? comp(r, 1, 2) : null, r.component(1).subcomponents.length > 2 ? comp(r, 1, 3) : null, comp(r, 2), comp(r, 19)]
      .filter((x): x is string => !!x);
    const a: Address = { lines, city: comp(r, 3), state: comp(r, 4), postalCode: comp(r, 5), country: comp(r, 6), use: ADDRESS_USE[comp(r, 7) ?? ''] ?? null };
    return lines.length || a.city || a.state || a.postalCode ? [a] : [];
  });
}

/** XTN: number (1, else 12 unformatted, else built from 6/7), use (2), equipment (3), email (4). */
export function telecoms(seg: Hl7Segment | undefined, field: number, defaultUse: string): ContactPoint[] {
  return reps(seg, field).flatMap((r) => {
    const email = comp(r, 4);
    const equipment = comp(r, 3);
    const number = comp(r, 1) ?? comp(r, 12) ?? ([comp(r, 6), comp(r, 7)].filter(Boolean).join('') || null);
    const value = equipment === 'Internet' || equipment === 'X.400' ? email ?? number : number ?? email;
    if (!value) return [];
    const use = comp(r, 2);
    return [{
      system: equipment === 'Internet' || equipment === 'X.400' ? 'email' : equipment === 'FX' ? 'fax' : 'phone',
      value,
      use: use === 'WPN' ? 'work' : use === 'PRN' || use === 'ORN' || use === 'VHN' ? 'home' : equipment === 'CP' ? 'mobile' : defaultUse,
    }];
  });
}

/** XCN as id^family^given (a reference, not PHI about the patient). */
export function person(seg: Hl7Segment | undefined, field: number): string | null {
  const r = reps(seg, field)[0];
  if (!r) return null;
  const parts = [comp(r, 1), comp(r, 2, 1), comp(r, 3)];
  return parts.some(Boolean) ? parts.map((p) => p ?? '').join('^') : null;
}

export function num(v: string | null | undefined): number | null {
  if (v === null || v === undefined || v.trim() === '') return null;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : null;
}
