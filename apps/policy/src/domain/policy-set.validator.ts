import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { CompiledPolicy, PolicySet, compilePolicy } from './policy-set';

/** One problem found in a policy document: where (JSON pointer) and what. */
export interface PolicyProblem {
  path: string;
  message: string;
}

export class PolicyValidationError extends Error {
  constructor(readonly source: string, readonly problems: PolicyProblem[]) {
    super(`${source}: ${problems.length} problem(s): ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`);
    this.name = 'PolicyValidationError';
  }
}

/**
 * Validates policy documents against their JSON Schemas (ajv, every error at
 * once), then checks what a schema cannot: audiences and projections that are
 * referenced exist, rule ids are unique. All problems are listed together.
 */
export class PolicyValidator {
  private readonly validatePolicy: ValidateFunction;
  private readonly validateSystems: ValidateFunction;

  constructor(policySchema: object, identifierSystemsSchema: object) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    this.validatePolicy = ajv.compile(policySchema);
    this.validateSystems = ajv.compile(identifierSystemsSchema);
  }

  policy(document: unknown, source = 'policy set'): CompiledPolicy {
    const problems = this.validatePolicy(document) ? [] : schemaProblems(this.validatePolicy.errors);
    if (!problems.length) problems.push(...crossReferenceProblems(document as PolicySet));
    if (problems.length) throw new PolicyValidationError(source, problems);
    return compilePolicy(document as PolicySet);
  }

  identifierSystems(document: unknown, source = 'identifier systems'): IdentifierSystems {
    const problems = this.validateSystems(document) ? [] : schemaProblems(this.validateSystems.errors);
    const doc = document as { systems?: Array<{ system: string; authority: string }> };
    const seen = new Set<string>();
    (doc?.systems ?? []).forEach((s, i) => {
      if (seen.has(s.system)) problems.push({ path: `/systems/${i}/system`, message: `duplicate system ${s.system}` });
      seen.add(s.system);
    });
    if (problems.length) throw new PolicyValidationError(source, problems);
    return new IdentifierSystems(doc.systems ?? []);
  }
}

/** FHIR identifier system URIs ↔ HL7 v2 assigning authorities (PID-3.4), as data. */
export class IdentifierSystems {
  private readonly bySystem: Map<string, string>;
  constructor(readonly entries: ReadonlyArray<{ system: string; authority: string }>) {
    this.bySystem = new Map(entries.map((e) => [e.system, e.authority]));
  }
  authorityOf(system: string): string | undefined {
    return this.bySystem.get(system);
  }
  systemsOf(authority: string): string[] {
    return this.entries.filter((e) => e.authority.toUpperCase() === authority.toUpperCase()).map((e) => e.system);
  }
}

function schemaProblems(errors: ErrorObject[] | null | undefined): PolicyProblem[] {
  return (errors ?? []).map((e) => ({
    path: e.instancePath,
    message: e.keyword === 'additionalProperties'
      ? `unknown property ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`
      : e.keyword === 'enum'
        ? `${e.message}: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
        : String(e.message),
  }));
}

function crossReferenceProblems(set: PolicySet): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const audiences = new Set(Object.keys(set.audiences));
  for (const [name, a] of Object.entries(set.audiences)) {
    const projection = set.projections[a.projection];
    if (!projection) problems.push({ path: `/audiences/${name}/projection`, message: `unknown projection ${JSON.stringify(a.projection)}` });
    else if (a.deidentified && !projection.deidentify) problems.push({ path: `/audiences/${name}/projection`, message: `a de-identified audience needs a projection with deidentify: true (${a.projection} has none)` });
    else if (projection.deidentify && !a.deidentified) problems.push({ path: `/audiences/${name}/deidentified`, message: `projection ${a.projection} de-identifies: the audience must be marked deidentified` });
  }
  const unknownAudience = (list: string[] | undefined, path: string) =>
    (list ?? []).forEach((aud, i) => { if (!audiences.has(aud)) problems.push({ path: `${path}/${i}`, message: `unknown audience ${JSON.stringify(aud)}` }); });
  const duplicates = (ids: string[], path: string) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => { if (seen.has(id)) problems.push({ path: `${path}/${i}/id`, message: `duplicate id ${JSON.stringify(id)}` }); seen.add(id); });
  };
  set.routing.forEach((r, i) => {
    unknownAudience(r.then.audiences, `/routing/${i}/then/audiences`);
    unknownAudience(r.then.delayAudiences, `/routing/${i}/then/delayAudiences`);
    if (r.then.action === 'delay' && r.when.critical === true) problems.push({ path: `/routing/${i}/then/action`, message: 'a critical value is never delayed' });
  });
  set.rules.forEach((r, i) => {
    unknownAudience(r.audiences, `/rules/${i}/audiences`);
    unknownAudience(r.exceptAudiences, `/rules/${i}/exceptAudiences`);
    if (r.unlessConsent && r.effect !== 'forbid') problems.push({ path: `/rules/${i}/unlessConsent`, message: 'unlessConsent applies to forbid rules only' });
  });
  duplicates(set.routing.map((r) => r.id), '/routing');
  duplicates(set.rules.map((r) => r.id), '/rules');
  duplicates(set.valueSets.map((v) => v.id), '/valueSets');
  return problems;
}
