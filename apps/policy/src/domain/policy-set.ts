import type { Tier } from '@clinmesh/topology';

/** HL7 v3 PurposeOfUse codes policy decides for. */
export type PurposeOfUse = 'TREAT' | 'HPAYMT' | 'HOPERAT' | 'HRESCH' | 'PUBHLTH' | 'BTG';

/** HL7 confidentiality (N, R, V) and sensitivity (ETH, HIV, PSY, STD, SDV, SUD) labels. */
export type SecurityLabel = 'N' | 'R' | 'V' | 'ETH' | 'HIV' | 'PSY' | 'STD' | 'SDV' | 'SUD';

export type RecordList =
  | 'patients' | 'encounters' | 'observations' | 'diagnosticReports' | 'serviceRequests' | 'medicationRequests' | 'medicationAdministrations'
  | 'immunizations' | 'appointments' | 'conditions' | 'allergies' | 'documents' | 'procedures' | 'coverages';

export type PatientField = 'identifiers' | 'names' | 'birthDate' | 'gender' | 'addresses' | 'telecoms' | 'deceased' | 'deceasedAt' | 'maritalStatus' | 'mergedIdentifiers';

export interface AudienceDefinition {
  description: string;
  /** The purpose of use the audience receives records for. */
  purposeOfUse: PurposeOfUse;
  /** Name of its projection (minimum necessary). */
  projection: string;
  /** Published on clinical.deidentified.<tier> with a per-audience pseudonym. */
  deidentified?: boolean;
  /** What the audience gets when some labelled data is withheld from it: a redacted view or nothing. */
  onWithheld: 'deny' | 'redact';
}

export interface ProjectionDefinition {
  description: string;
  /** Record lists kept ('*' = all); the others are emptied. */
  records: '*' | RecordList[];
  /** Patient fields kept ('*' = all); the others are emptied. */
  patient: '*' | PatientField[];
  /** HIPAA Safe Harbor de-identification on top of the field selection. */
  deidentify?: boolean;
}

export interface RoutingRule {
  id: string;
  description: string;
  when: { messageTypes?: string[]; resourceTypes?: string[]; tiers?: Tier[]; critical?: boolean; labels?: SecurityLabel[] };
  /**
   * `delay` holds the views of `delayAudiences` (all audiences when absent) for `delaySeconds` after the
   * decision — e.g. results released to a patient-facing audience only after the clinician has had
   * time to see them. A critical event is never delayed.
   */
  then: { workflows?: string[]; audiences?: string[]; escalateTo?: Tier; action?: 'surface' | 'suppress' | 'delay'; delaySeconds?: number; delayAudiences?: string[] };
}

/** An access rule (Cedar-like): default deny, forbid beats permit; the determining ids come back on each decision. */
export interface AccessRule {
  id: string;
  description: string;
  effect: 'permit' | 'forbid';
  /** Audiences the rule applies to (absent = all). */
  audiences?: string[];
  /** Audiences the rule does not apply to (Cedar's `unless principal in ...`). */
  exceptAudiences?: string[];
  purposes?: PurposeOfUse[];
  /** A rule with labels is about labelled data: a forbid withholds the labelled records. */
  labels?: SecurityLabel[];
  /** A patient's consent that permits the label to the audience lifts this forbid. */
  unlessConsent?: boolean;
}

export interface ValueSet {
  id: string;
  label: SecurityLabel;
  description: string;
  source: string;
  codes: Array<{ system: string; code: string; display?: string }>;
  codePrefixes?: Array<{ system: string; prefixes: string[] }>;
}

/** One version of the policy as data (apps/policy/policy/policy-set.json, validated by policy-set.schema.json). */
export interface PolicySet {
  version: string;
  description?: string;
  defaultWorkflow: string;
  critical: { interpretationCodes: string[]; scoreAtLeast?: number };
  audiences: Record<string, AudienceDefinition>;
  projections: Record<string, ProjectionDefinition>;
  routing: RoutingRule[];
  rules: AccessRule[];
  systemAliases?: Record<string, string>;
  valueSets: ValueSet[];
}

/** A validated policy set with its lookup tables built once (codes → value sets). */
export interface CompiledPolicy {
  readonly set: PolicySet;
  readonly version: string;
  /** `${system}|${code}` → value sets that contain it. */
  readonly codeIndex: ReadonlyMap<string, ValueSet[]>;
  readonly prefixIndex: ReadonlyArray<{ system: string; prefix: string; valueSet: ValueSet }>;
  readonly criticalCodes: ReadonlySet<string>;
}

export function compilePolicy(set: PolicySet): CompiledPolicy {
  const codeIndex = new Map<string, ValueSet[]>();
  const prefixIndex: Array<{ system: string; prefix: string; valueSet: ValueSet }> = [];
  for (const vs of set.valueSets) {
    for (const c of vs.codes) {
      const key = `${c.system}|${c.code}`;
      codeIndex.set(key, [...(codeIndex.get(key) ?? []), vs]);
    }
    for (const p of vs.codePrefixes ?? []) for (const prefix of p.prefixes) prefixIndex.push({ system: p.system, prefix, valueSet: vs });
  }
  return { set, version: set.version, codeIndex, prefixIndex, criticalCodes: new Set(set.critical.interpretationCodes) };
}
