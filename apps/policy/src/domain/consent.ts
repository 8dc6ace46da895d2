/**
 * A patient's consent directive, parsed from a FHIR R4 Consent, in the terms
 * policy decides with. Provisions nest: a nested provision is an exception to
 * its parent, so the deepest provision that applies decides (FHIR R4
 * Consent.provision semantics), as in the LEAP consent decision service.
 */
export interface ConsentProvision {
  type: 'permit' | 'deny';
  period?: Interval;
  /** Audiences named by actor role (code) or reference (Group/<audience>); empty = everyone. */
  audiences: string[];
  /** consentaction codes (access, use, disclose, collect, correct); empty = every action. */
  actions: string[];
  securityLabels: string[];
  purposes: string[];
  /** Resource types (class) the provision is about; empty = all. */
  classes: string[];
  /** `${system}|${code}`; empty = all. */
  codes: string[];
  dataPeriod?: Interval;
  provisions: ConsentProvision[];
}

export interface Interval {
  start?: number;
  end?: number;
}

export interface ConsentDirective {
  id: string;
  epid: string;
  provision: ConsentProvision;
}

export type ConsentDecisionCode = 'CONSENT_PERMIT' | 'CONSENT_DENY' | 'NO_CONSENT';

export interface ConsentVerdict {
  decision: ConsentDecisionCode;
  consentId: string | null;
  /** FHIRPath of the provision that decided (e.g. `Consent.provision.provision[0]`). */
  provision: string | null;
  /** The provision that decided names security labels (it is about labelled data only). */
  labelScoped: boolean;
}

export interface ConsentQuery {
  audience: string;
  purpose: string;
  /** Resource types present in the event. */
  resourceTypes: ReadonlySet<string>;
  /** `${system}|${code}` present in the event. */
  codes: ReadonlySet<string>;
  /** When the data happened (epoch ms), if known. */
  dataTime: number | null;
  now: number;
  /** Evaluate for one label's data; undefined = the event as a whole (label-scoped provisions do not apply). */
  label?: string;
}

const NONE: ConsentVerdict = { decision: 'NO_CONSENT', consentId: null, provision: null, labelScoped: false };
const DISCLOSURE_ACTIONS = new Set(['access', 'use', 'disclose']);

/** Every active consent of the patient: a deny anywhere beats a permit (the conservative reading). */
export function evaluateConsents(consents: readonly ConsentDirective[], q: ConsentQuery): ConsentVerdict {
  let permit: ConsentVerdict | null = null;
  for (const c of consents) {
    const v = evaluateConsent(c, q);
    if (v.decision === 'CONSENT_DENY') return v;
    if (v.decision === 'CONSENT_PERMIT') permit ??= v;
  }
  return permit ?? NONE;
}

export function evaluateConsent(consent: ConsentDirective, q: ConsentQuery): ConsentVerdict {
  const hit = deepest(consent.provision, 'Consent.provision', q);
  if (!hit) return NONE;
  return {
    decision: hit.p.type === 'permit' ? 'CONSENT_PERMIT' : 'CONSENT_DENY',
    consentId: consent.id,
    provision: hit.path,
    labelScoped: hit.p.securityLabels.length > 0,
  };
}

function deepest(p: ConsentProvision, path: string, q: ConsentQuery): { p: ConsentProvision; path: string } | null {
  if (!applies(p, q)) return null;
  for (let i = 0; i < p.provisions.length; i++) {
    const inner = deepest(p.provisions[i], `${path}.provision[${i}]`, q);
    if (inner) return inner;
  }
  return { p, path };
}

function applies(p: ConsentProvision, q: ConsentQuery): boolean {
  if (!within(p.period, q.now)) return false;
  if (p.audiences.length && !p.audiences.includes(q.audience)) return false;
  if (p.actions.length && !p.actions.some((a) => DISCLOSURE_ACTIONS.has(a))) return false;
  if (p.purposes.length && !p.purposes.includes(q.purpose)) return false;
  if (p.securityLabels.length && (q.label === undefined || !p.securityLabels.includes(q.label))) return false;
  if (p.classes.length && !p.classes.some((c) => q.resourceTypes.has(c))) return false;
  if (p.codes.length && !p.codes.some((c) => q.codes.has(c))) return false;
  if (p.dataPeriod && (q.dataTime === null || !within(p.dataPeriod, q.dataTime))) return false;
  return true;
}

function within(i: Interval | undefined, t: number): boolean {
  if (!i) return true;
  return (i.start === undefined || t >= i.start) && (i.end === undefined || t <= i.end);
}

/** Every audience a consent names, at any depth. */
export function consentAudiences(p: ConsentProvision): string[] {
  return [...new Set([...p.audiences, ...p.provisions.flatMap(consentAudiences)])];
}
