import type { CodeableConcept, Coding } from '@clinmesh/schemas';

/** A target code in a terminology map. */
export interface MappedCode {
  system: string;
  code: string;
  display?: string;
}

/**
 * Terminology maps as data (JSON): which code-system names mean which
 * standard systems, and per source system (MSH-3 / FHIR sender, `*` for all)
 * per local code system (`""` when the source sends none) which local codes
 * mean which standard codes. Loaded from a file, so a terminology team fixes
 * a map without a release and a replay re-emits corrected records.
 */
export interface TerminologyMapData {
  version: string;
  /** Code-system names as sent (HL7 CWE-3, table 0396, or a URI) → canonical URI. */
  systemAliases: Record<string, string>;
  /** Canonical URIs whose codes pass through unchanged. */
  standardSystems: string[];
  /** sourceSystem → localSystem → localCode → target. */
  sources: Record<string, Record<string, Record<string, MappedCode>>>;
}

/** What the mapper reports for a code it could not map. */
export interface UnmappedReport {
  system: string | null;
  code: string;
  display: string | null;
  reason: 'NO_MAP_ENTRY' | 'NO_SYSTEM';
}

/** One coding as the source sent it (HL7 CWE triplet, FHIR Coding). */
export interface SourceCoding {
  system?: string | null;
  code?: string | null;
  display?: string | null;
}

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const CVX = 'http://hl7.org/fhir/sid/cvx';
export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';

/** Immutable, indexed view of a {@link TerminologyMapData}. */
export class TerminologyMaps {
  private readonly aliases: Map<string, string>;
  private readonly standard: Set<string>;

  constructor(readonly data: TerminologyMapData) {
    this.aliases = new Map(Object.entries(data.systemAliases).map(([k, v]) => [k.toUpperCase(), v]));
    this.standard = new Set(data.standardSystems);
  }

  get version(): string {
    return this.data.version;
  }

  /** The canonical URI for a system name as sent, or null when it is not a known system. */
  resolveSystem(system: string | null | undefined): string | null {
    if (!system) return null;
    const alias = this.aliases.get(system.toUpperCase());
    if (alias) return alias;
    if (this.standard.has(system)) return system;
    if (/^http:\/\/terminology\.hl7\.org\/CodeSystem\//.test(system)) return system;
    return null;
  }

  isStandard(uri: string | null): boolean {
    return !!uri && (this.standard.has(uri) || uri.startsWith('http://terminology.hl7.org/CodeSystem/'));
  }

  /**
   * Maps the codings of one concept. Standard codes pass through; local
   * codes are looked up for this source (then `*`); what stays unmapped is
   * kept as sent, flagged, and reported — never dropped.
   */
  mapConcept(sourceSystem: string, codings: SourceCoding[], text: string | null): { concept: CodeableConcept; unmapped: UnmappedReport[] } {
    const out: Coding[] = [];
    const unmapped: UnmappedReport[] = [];
    const present = codings.filter((c) => c.code && c.code.trim());
    for (const c of present) {
      const code = c.code!.trim();
      const uri = this.resolveSystem(c.system);
      if (uri && this.isStandard(uri)) {
        out.push(coding(uri, code, c.display ?? null, 'STANDARD'));
        continue;
      }
      const target = this.lookup(sourceSystem, c.system ?? '', code);
      if (target) {
        out.push({ ...coding(target.system, target.code, target.display ?? c.display ?? null, 'MAPPED'), originalSystem: c.system ?? null, originalCode: code });
        continue;
      }
      const reason = c.system ? 'NO_MAP_ENTRY' : 'NO_SYSTEM';
      out.push({ ...coding(c.system ?? null, code, c.display ?? null, 'UNMAPPED'), unmapped: true, unmappedReason: reason });
      unmapped.push({ system: c.system ?? null, code, display: c.display ?? null, reason });
    }
    // A concept with one standard/mapped coding is usable: its other unmapped codings are alternates, not gaps.
    const usable = out.some((c) => !c.unmapped);
    const order = (c: Coding) => (c.mapping === 'STANDARD' ? 0 : c.mapping === 'MAPPED' ? 1 : 2);
    out.sort((a, b) => order(a) - order(b));
    return { concept: { codings: out, text: text ?? present.find((c) => c.display)?.display ?? null }, unmapped: usable ? [] : unmapped };
  }

  private lookup(sourceSystem: string, localSystem: string, code: string): MappedCode | undefined {
    for (const src of [sourceSystem, '*']) {
      const bySystem = this.data.sources[src];
      if (!bySystem) continue;
      const hit = bySystem[localSystem]?.[code] ?? bySystem['*']?.[code];
      if (hit) return hit;
    }
    return undefined;
  }
}

function coding(system: string | null, code: string, display: string | null, mapping: Coding['mapping']): Coding {
  return { system, code, display, mapping, unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null };
}

/** Validates map data (fail fast with every problem listed). */
export function parseTerminologyMapData(raw: unknown): TerminologyMapData {
  const problems: string[] = [];
  const d = raw as Partial<TerminologyMapData> | null;
  if (!d || typeof d !== 'object') throw new Error('terminology map: not a JSON object');
  if (typeof d.version !== 'string' || !d.version) problems.push('version must be a non-empty string');
  if (!d.systemAliases || typeof d.systemAliases !== 'object') problems.push('systemAliases must be an object');
  if (!Array.isArray(d.standardSystems)) problems.push('standardSystems must be an array');
  if (!d.sources || typeof d.sources !== 'object') problems.push('sources must be an object');
  else {
    for (const [src, systems] of Object.entries(d.sources)) {
      for (const [sys, codes] of Object.entries(systems ?? {})) {
        for (const [code, target] of Object.entries(codes ?? {})) {
          if (!target || typeof target.system !== 'string' || typeof target.code !== 'string') problems.push(`sources.${src}.${sys}.${code} needs system and code`);
        }
      }
    }
  }
  if (problems.length) throw new Error(`terminology map invalid: ${problems.join('; ')}`);
  return d as TerminologyMapData;
}
