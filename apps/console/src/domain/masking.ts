import { MASK, maskHl7, viewHl7 } from './hl7-viewer';

/** Keys whose values identify a patient (EPIDs, identifiers, names, dates of birth, contact details). */
const SENSITIVE_KEY = /^(epid|otherEpid|survivorEpid|mrn|ssn|identifier|identifiers|patientIdentifiers|patientIdentifier|name|names|family|given|birthDate|dateOfBirth|dob|address|addresses|line|phone|telecom|sourcePatientKey|patientKey|patientRef|patient_ref|pseudonym)$/i;

/**
 * Masks patient identifiers in any JSON value, recursively. Structure and
 * non-identifying content stay (tiers, codes, timings, reasons), so the masked
 * lineage still explains what happened; revealing re-fetches with a purpose.
 * Raw HL7 (`raw` strings starting with MSH) is masked field by field.
 */
export function maskPatientData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskPatientData);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SENSITIVE_KEY.test(k) && v !== null && v !== undefined && v !== '') out[k] = maskLeaf(v);
      else if (k === 'raw' && typeof v === 'string') out[k] = v.startsWith('MSH') ? maskHl7(v) : v.trim().startsWith('{') ? JSON.stringify(maskPatientData(safeJson(v))) : MASK;
      else out[k] = maskPatientData(v);
    }
    return out;
  }
  return value;
}

function maskLeaf(v: unknown): unknown {
  if (typeof v === 'string') return v.length <= 4 ? MASK : `${MASK}${v.slice(-2)}`;
  if (Array.isArray(v)) return v.map(() => MASK);
  return MASK;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return MASK;
  }
}

/** Segment/field view of a raw message, masked unless revealed. */
export function hl7View(raw: string, revealed: boolean) {
  return viewHl7(raw).map((s) => ({ ...s, fields: s.fields.map((f) => (f.sensitive && !revealed ? { ...f, value: MASK } : f)) }));
}
