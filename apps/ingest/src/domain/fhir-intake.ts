import { ClinmeshError } from '@clinmesh/errors';
import {
  BUNDLE_REQUEST_METHODS, R4_CODES, R4_DATE, R4_DATE_TIME, R4_INSTANT, R4_REQUIRED_ELEMENTS, R4_RESOURCE_TYPES, primitiveTypeOf,
} from './fhir/fhir-r4-structure.rules';
import { validateAgainstR4Definitions } from './fhir/fhir-r4-definitions.validator';

export interface FhirIntakeFacts {
  resourceType: string;
  messageType: string;
  controlId: string | undefined;
  resourceTypes: string[];
  patientIdentifiers: Array<{ system: string; value: string; type: string | null }>;
  abnormalFlags: string[];
  entryCount: number;
  /** Problems that did not refuse the payload (e.g. missing min-1 elements under the `warning` policy). */
  warnings: FhirIssue[];
}

export interface FhirValidationPolicy {
  maxEntries: number;
  /**
   * How a missing min-1 element is treated: `error` refuses the payload,
   * `warning` accepts it and reports the problem in the 202 OperationOutcome.
   */
  requiredElements: 'error' | 'warning';
}

export interface FhirIssue {
  severity: 'error' | 'warning';
  code: 'structure' | 'required' | 'value' | 'too-costly';
  diagnostics: string;
  expression: string[];
}

const BUNDLE_TYPES = new Set(['document', 'message', 'transaction', 'transaction-response', 'batch', 'batch-response', 'history', 'searchset', 'collection']);
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Issues reported at most per payload: enough to fix a feed, bounded for a hostile one. */
const MAX_ISSUES = 100;

/**
 * Structural reading of a FHIR R4 resource or Bundle: every resource has a
 * known R4 resourceType, ids are well-formed, required elements are present,
 * date/dateTime/instant values have the R4 lexical form, the R4 JSON rules
 * hold (no null, "", {} or []), Bundles have a valid type, transaction and
 * batch entries a request (method + url), message Bundles start with a
 * MessageHeader and documents with a Composition.
 * Problems are collected with their FHIRPath location so the caller can
 * answer one OperationOutcome naming each of them.
 */
export function readFhirIntakeFacts(body: unknown, policy: FhirValidationPolicy): FhirIntakeFacts {
  const maxEntries = policy.maxEntries;
  const issues: FhirIssue[] = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw fhirInvalid([{ severity: 'error', code: 'structure', diagnostics: 'the body must be a FHIR resource (a JSON object)', expression: [''] }]);
  }
  const root = body as Record<string, unknown>;
  const resources: Array<{ r: Record<string, unknown>; path: string }> = [];
  const visit = (r: unknown, path: string) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) {
      issues.push({ severity: 'error', code: 'structure', diagnostics: 'expected a resource object', expression: [path || '$this'] });
      return;
    }
    const res = r as Record<string, unknown>;
    if (typeof res.resourceType !== 'string' || !/^[A-Z][A-Za-z]+$/.test(res.resourceType)) {
      issues.push({ severity: 'error', code: 'required', diagnostics: 'resourceType is missing or invalid', expression: [path ? `${path}.resourceType` : 'resourceType'] });
      return;
    }
    if (!R4_RESOURCE_TYPES.has(res.resourceType)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `${res.resourceType} is not an R4 resource type`, expression: [`${path}.resourceType`] });
      return;
    }
    if (res.id !== undefined && (typeof res.id !== 'string' || !ID.test(res.id))) {
      issues.push({ severity: 'error', code: 'value', diagnostics: 'id must match [A-Za-z0-9-.]{1,64}', expression: [`${path}.id`] });
    }
    for (const element of R4_REQUIRED_ELEMENTS[res.resourceType] ?? []) {
      const present = element.endsWith('[x]')
        ? Object.keys(res).some((k) => k.startsWith(element.slice(0, -3)) && /^[A-Z]/.test(k.slice(element.length - 3)))
        : res[element] !== undefined;
      if (!present) issues.push({ severity: policy.requiredElements, code: 'required', diagnostics: `${res.resourceType}.${element} is required (min 1)`, expression: [`${path}.${element}`] });
    }
    const code = R4_CODES.gender;
    if (code.resources.has(res.resourceType) && res.gender !== undefined && !code.values.has(res.gender as string)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `gender must be one of ${[...code.values].join(', ')}`, expression: [`${path}.gender`] });
    }
    checkJson(res, path, issues, false);
    if (Array.isArray(res.contained)) res.contained.forEach((c: unknown, i: number) => visit(c, `${path}.contained[${i}]`));
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
        const request = entry.request as Record<string, unknown> | undefined;
        if (root.type === 'transaction' || root.type === 'batch') {
          if (!request || typeof request !== 'object') {
            issues.push({ severity: 'error', code: 'required', diagnostics: `entry.request is required in a ${root.type} Bundle`, expression: [`Bundle.entry[${i}].request`] });
          } else {
            if (typeof request.method !== 'string' || !BUNDLE_REQUEST_METHODS.has(request.method)) {
              issues.push({ severity: 'error', code: 'value', diagnostics: `entry.request.method must be one of ${[...BUNDLE_REQUEST_METHODS].join(', ')}`, expression: [`Bundle.entry[${i}].request.method`] });
            }
            if (typeof request.url !== 'string' || !request.url) issues.push({ severity: 'error', code: 'required', diagnostics: 'entry.request.url is required', expression: [`Bundle.entry[${i}].request.url`] });
          }
        }
        if (entry.fullUrl !== undefined && (typeof entry.fullUrl !== 'string' || !entry.fullUrl)) {
          issues.push({ severity: 'error', code: 'value', diagnostics: 'entry.fullUrl must be a non-empty uri', expression: [`Bundle.entry[${i}].fullUrl`] });
        }
        if (entry.resource !== undefined) visit(entry.resource, `Bundle.entry[${i}].resource`);
        else if (root.type === 'transaction' || root.type === 'batch' || root.type === 'collection' || root.type === 'message' || root.type === 'document') {
          const method = request?.method;
          if (method !== 'DELETE' && method !== 'GET') issues.push({ severity: 'error', code: 'required', diagnostics: 'entry.resource is required', expression: [`Bundle.entry[${i}].resource`] });
        }
      });
      const first = (entries[0] as Record<string, unknown> | undefined)?.resource as Record<string, unknown> | undefined;
      if (root.type === 'message' && first?.resourceType !== 'MessageHeader') {
        issues.push({ severity: 'error', code: 'structure', diagnostics: 'the first entry of a message Bundle must be a MessageHeader', expression: ['Bundle.entry[0].resource'] });
      }
      if (root.type === 'document' && first?.resourceType !== 'Composition') {
        issues.push({ severity: 'error', code: 'structure', diagnostics: 'the first entry of a document Bundle must be a Composition', expression: ['Bundle.entry[0].resource'] });
      }
    }
  }
  if (!issues.some((i) => i.severity === 'error')) {
    // The structural pass above is cheap and names Bundle-level rules; the definitions pass checks every element.
    const known = new Set(issues.map((i) => `${i.expression.join()}|${i.code}`));
    for (const issue of validateAgainstR4Definitions(root, policy.requiredElements)) {
      if (!known.has(`${issue.expression.join()}|${issue.code}`)) issues.push(issue);
    }
  }
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) throw fhirInvalid(issues.slice(0, MAX_ISSUES));

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
    warnings: issues.filter((i) => i.severity === 'warning').slice(0, MAX_ISSUES),
  };
}

/**
 * The R4 JSON rules below a resource: no null outside arrays, no empty
 * string, object or array; date/time primitives in their lexical form.
 * Nested resources (Bundle entries, contained) are checked on their own.
 */
function checkJson(node: Record<string, unknown>, path: string, issues: FhirIssue[], nested: boolean): void {
  if (issues.length >= MAX_ISSUES) return;
  for (const [key, value] of Object.entries(node)) {
    if (!nested && (key === 'contained' || key === 'entry' || key === 'resourceType')) continue;
    if (key === 'resource' && nested) continue;
    const at = `${path}.${key}`;
    checkValue(key, value, at, issues);
  }
}

function checkValue(key: string, value: unknown, at: string, issues: FhirIssue[]): void {
  if (issues.length >= MAX_ISSUES) return;
  if (value === null) {
    issues.push({ severity: 'error', code: 'structure', diagnostics: 'null is not allowed (omit the element)', expression: [at] });
  } else if (typeof value === 'string') {
    if (value.length === 0) issues.push({ severity: 'error', code: 'value', diagnostics: 'strings must not be empty (omit the element)', expression: [at] });
    else {
      const type = primitiveTypeOf(key);
      const re = type === 'date' ? R4_DATE : type === 'dateTime' ? R4_DATE_TIME : type === 'instant' ? R4_INSTANT : undefined;
      if (re && !re.test(value)) issues.push({ severity: 'error', code: 'value', diagnostics: `"${value.slice(0, 40)}" is not a valid R4 ${type}`, expression: [at] });
    }
  } else if (Array.isArray(value)) {
    if (value.length === 0) issues.push({ severity: 'error', code: 'structure', diagnostics: 'arrays must not be empty (omit the element)', expression: [at] });
    // null inside an array is allowed only to align a primitive array with its `_element` extensions.
    value.forEach((v, i) => { if (v !== null) checkValue(key, v, `${at}[${i}]`, issues); });
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 0) issues.push({ severity: 'error', code: 'structure', diagnostics: 'objects must not be empty (omit the element)', expression: [at] });
    else if (typeof obj.resourceType !== 'string') checkJson(obj, at, issues, true);
  }
}

export function fhirInvalid(issues: FhirIssue[], code = 'INGEST.FHIR.INVALID', status = 422): ClinmeshError {
  return new ClinmeshError(code, issues.map((i) => `${i.expression.join(',')}: ${i.diagnostics}`).join('; '), {
    status,
    details: { issues: issues.map((i) => ({ severity: i.severity, code: i.code, diagnostics: i.diagnostics, expression: i.expression })) },
  });
}
