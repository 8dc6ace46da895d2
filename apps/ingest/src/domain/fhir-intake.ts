import { ClinmeshError } from '@clinmesh/errors';

export interface FhirIntakeFacts {
  resourceType: string;
  messageType: string;
  controlId: string | undefined;
  resourceTypes: string[];
  patientIdentifiers: Array<{ system: string; value: string; type: string | null }>;
  abnormalFlags: string[];
  entryCount: number;
}

export interface FhirIssue {
  severity: 'error';
  code: 'structure' | 'required' | 'value' | 'too-costly';
  diagnostics: string;
  expression: string[];
}

const BUNDLE_TYPES = new Set(['transaction', 'batch', 'collection', 'message', 'document', 'searchset', 'history']);
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Structural reading of a FHIR R4 resource or Bundle: every resource has a
 * resourceType, ids are well-formed, Bundles have a valid type and entries.
 * Problems are collected with their FHIRPath location so the caller can
 * answer one OperationOutcome naming each of them.
 */
export function readFhirIntakeFacts(body: unknown, maxEntries: number): FhirIntakeFacts {
  const issues: FhirIssue[] = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw fhirInvalid([{ severity: 'error', code: 'structure', diagnostics: 'the body must be a FHIR resource (a JSON object)', expression: [''] }]);
  }
  const root = body as Record<string, unknown>;
  const resources: Array<{ r: Record<string, unknown>; path: string }> = [];
  const visit = (r: unknown, path: string) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) {
      issues.push({ severity: 'error', code: 'structure', diagnostics: 'expected a resource object', expression: [path] });
      return;
    }
    const res = r as Record<string, unknown>;
    if (typeof res.resourceType !== 'string' || !/^[A-Z][A-Za-z]+$/.test(res.resourceType)) {
      issues.push({ severity: 'error', code: 'required', diagnostics: 'resourceType is missing or invalid', expression: [`${path}.resourceType`] });
      return;
    }
    if (res.id !== undefined && (typeof res.id !== 'string' || !ID.test(res.id))) {
      issues.push({ severity: 'error', code: 'value', diagnostics: 'id must match [A-Za-z0-9-.]{1,64}', expression: [`${path}.id`] });
    }
    resources.push({ r: res, path });
  };
  visit(root, root.resourceType ? String(root.resourceType) : '');
  let entryCount = 0;
  if (root.resourceType === 'Bundle') {
    if (typeof root.type !== 'string' || !BUNDLE_TYPES.has(root.type)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `Bundle.type must be one of ${[...BUNDLE_TYPES].join(', ')}`, expression: ['Bundle.type'] });
    }
    const entries = root.entry === undefined ? [] : root.entry;
    if (!Array.isArray(entries)) {
      issues.push({ severity: 'error', code: 'structure', diagnostics: 'Bundle.entry must be an array', expression: ['Bundle.entry'] });
    } else {
      entryCount = entries.length;
      if (entries.length > maxEntries) {
        throw fhirInvalid([{ severity: 'error', code: 'too-costly', diagnostics: `Bundle has ${entries.length} entries; the limit is ${maxEntries}`, expression: ['Bundle.entry'] }], 'INGEST.FHIR.TOO_MANY_ENTRIES', 413);
      }
      entries.forEach((e: unknown, i: number) => {
        const entry = e as Record<string, unknown> | null;
        if (!entry || typeof entry !== 'object') {
          issues.push({ severity: 'error', code: 'structure', diagnostics: 'entry must be an object', expression: [`Bundle.entry[${i}]`] });
          return;
        }
        if (entry.resource !== undefined) visit(entry.resource, `Bundle.entry[${i}].resource`);
        else if (root.type === 'transaction' || root.type === 'batch' || root.type === 'collection' || root.type === 'message') {
          const method = (entry.request as Record<string, unknown> | undefined)?.method;
          if (method !== 'DELETE' && method !== 'GET') issues.push({ severity: 'error', code: 'required', diagnostics: 'entry.resource is required', expression: [`Bundle.entry[${i}].resource`] });
        }
      });
    }
  }
  if (issues.length) throw fhirInvalid(issues);

  const identifiers: FhirIntakeFacts['patientIdentifiers'] = [];
  const flags: string[] = [];
  for (const { r } of resources) {
    if (r.resourceType === 'Patient' && Array.isArray(r.identifier)) {
      for (const id of r.identifier as Array<Record<string, unknown>>) {
        if (typeof id?.value !== 'string') continue;
        const coding = ((id.type as Record<string, unknown> | undefined)?.coding as Array<Record<string, unknown>> | undefined)?.[0];
        identifiers.push({ system: typeof id.system === 'string' ? id.system : '', value: id.value, type: typeof coding?.code === 'string' ? coding.code : null });
      }
    }
    if (r.resourceType === 'Observation' && Array.isArray(r.interpretation)) {
      for (const concept of r.interpretation as Array<Record<string, unknown>>) {
        for (const c of (concept?.coding as Array<Record<string, unknown>> | undefined) ?? []) if (typeof c.code === 'string') flags.push(c.code);
      }
    }
  }
  const resourceTypes = [...new Set(resources.map((x) => String(x.r.resourceType)))];
  return {
    resourceType: String(root.resourceType),
    messageType: root.resourceType === 'Bundle' ? `Bundle/${root.type}` : String(root.resourceType),
    controlId: typeof root.id === 'string' ? root.id : undefined,
    resourceTypes,
    patientIdentifiers: identifiers,
    abnormalFlags: flags,
    entryCount,
  };
}

export function fhirInvalid(issues: FhirIssue[], code = 'INGEST.FHIR.INVALID', status = 422): ClinmeshError {
  return new ClinmeshError(code, issues.map((i) => `${i.expression.join(',')}: ${i.diagnostics}`).join('; '), {
    status,
    details: { issues: issues.map((i) => ({ severity: i.severity, code: i.code, diagnostics: i.diagnostics, expression: i.expression })) },
  });
}
