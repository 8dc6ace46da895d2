import type { Quantity } from '@clinmesh/schemas';
import conversionData from './unit-conversion.data.json';

/** The part of @lhncbc/ucum-lhc used here (the package ships no types). */
interface UcumUtils {
  validateUnitString(unit: string, suggest?: boolean): { status: 'valid' | 'invalid' | 'error'; ucumCode: string | null };
  convertUnitTo(from: string, value: number, to: string, options?: { molecularWeight?: number }): { status: 'succeeded' | 'failed' | 'error'; toVal: number | null };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ucum: UcumUtils = require('@lhncbc/ucum-lhc').UcumLhcUtils.getInstance();

export interface UnitConversionData {
  /** Non-UCUM spellings seen in feeds → UCUM code. */
  aliases: Record<string, string>;
  /** Analytes (by LOINC) whose results are also given in the other listed units; molar mass for mass ↔ substance. */
  analytes: Array<{ name: string; loinc: string[]; molecularWeight?: number; units: string[] }>;
}

const DATA = conversionData as UnitConversionData;
const ucumCache = new Map<string, string | null>();

/**
 * ucum-lhc reports a unit string it cannot parse with `console.log`, quoting the string. A unit field holds
 * whatever the sender put there — a shifted field can put a name or an identifier in OBX-6 — so that line
 * would be PHI in the service's log, and unstructured besides. Its calls run with `console.log` silenced
 * (synchronous: nothing else runs meanwhile); the outcome is in the returned status.
 */
function quietly<T>(work: () => T): T {
  const log = console.log;
  console.log = () => undefined;
  try {
    return work();
  } finally {
    console.log = log;
  }
}

/** The UCUM code for a unit as sent: a known alias, else the unit itself when UCUM accepts it; null otherwise. */
export function toUcum(unit: string | null | undefined): string | null {
  if (!unit) return null;
  const u = unit.trim();
  if (ucumCache.has(u)) return ucumCache.get(u)!;
  let code: string | null = DATA.aliases[u] ?? null;
  if (!code) {
    const v = quietly(() => ucum.validateUnitString(u));
    code = v.status === 'valid' ? (v.ucumCode ?? u) : null;
  }
  if (ucumCache.size < 10_000) ucumCache.set(u, code);
  return code;
}

export function quantity(value: number | null, unit: string | null | undefined, comparator: string | null = null): Quantity {
  return { value, comparator, unit: unit ?? null, ucum: toUcum(unit) };
}

/** Converts between UCUM units (mass ↔ substance with a molar mass); null when UCUM says the units are not commensurable. */
export function convertUcum(value: number, from: string, to: string, molecularWeight?: number): number | null {
  const r = quietly(() => ucum.convertUnitTo(from, value, to, molecularWeight ? { molecularWeight } : {}));
  return r.status === 'succeeded' && r.toVal !== null && Number.isFinite(r.toVal) ? r.toVal : null;
}

/**
 * The value in the analyte's other units (e.g. glucose 182 mg/dL →
 * 10.1 mmol/L). Rounded to 4 significant digits: a conversion must not
 * suggest more precision than the measurement had.
 */
export function alternateQuantities(loincCodes: string[], q: Quantity | null): Quantity[] {
  if (!q || q.value === null || !q.ucum) return [];
  const analyte = DATA.analytes.find((a) => a.loinc.some((c) => loincCodes.includes(c)));
  if (!analyte) return [];
  const out: Quantity[] = [];
  for (const unit of analyte.units) {
    if (unit === q.ucum) continue;
    const v = convertUcum(q.value, q.ucum, unit, analyte.molecularWeight);
    if (v !== null) out.push({ value: Number(v.toPrecision(4)), comparator: q.comparator, unit, ucum: unit });
  }
  return out;
}
