import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClinmeshError } from '@clinmesh/errors';
import { CompiledPolicy } from '../../domain/policy-set';
import { IdentifierSystems, PolicyValidationError, PolicyValidator } from '../../domain/policy-set.validator';

/** The policy data shipped in the policy folder, validated against the schemas beside them (every error listed). */
export function loadPolicyFiles(dir: string): { validator: PolicyValidator; policy: CompiledPolicy; identifierSystems: IdentifierSystems; source: string } {
  const read = (file: string): unknown => {
    const path = join(dir, file);
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new ClinmeshError('CONFIG.POLICY_FILE', `cannot read ${path}: ${(e as Error).message}`);
    }
  };
  const validator = new PolicyValidator(read('policy-set.schema.json') as object, read('identifier-systems.schema.json') as object);
  const source = join(dir, 'policy-set.json');
  try {
    return {
      validator,
      policy: validator.policy(read('policy-set.json'), source),
      identifierSystems: validator.identifierSystems(read('identifier-systems.json'), join(dir, 'identifier-systems.json')),
      source,
    };
  } catch (e) {
    if (e instanceof PolicyValidationError) throw new ClinmeshError('CONFIG.POLICY_INVALID', e.message, { details: { errors: e.problems } });
    throw e;
  }
}
