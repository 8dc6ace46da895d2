import type { CompiledPolicy } from '../domain/policy-set';
import type { IdentifierSystems, PolicyValidator } from '../domain/policy-set.validator';

/**
 * The policy versions in force in this process: the active one decides, a
 * candidate (shadow mode) is evaluated side by side without effect. Swapped
 * atomically (a reference change) when an operator activates, promotes or
 * discards — no restart.
 */
export class PolicyStore {
  private activePolicy: CompiledPolicy;
  private candidatePolicy: CompiledPolicy | null = null;
  private activatedAt = new Date();
  private changes = 0;

  constructor(readonly validator: PolicyValidator, initial: CompiledPolicy, readonly identifierSystems: IdentifierSystems) {
    this.activePolicy = initial;
  }

  get active(): CompiledPolicy {
    return this.activePolicy;
  }

  get candidate(): CompiledPolicy | null {
    return this.candidatePolicy;
  }

  get since(): Date {
    return this.activatedAt;
  }

  /**
   * Counts every swap. A reader of the database (the replica follow) notes it before reading and applies
   * what it read only if nothing changed meanwhile: a promotion committed during its read must not be
   * undone by the older row it saw.
   */
  get generation(): number {
    return this.changes;
  }

  activate(policy: CompiledPolicy, at = new Date()): void {
    this.activePolicy = policy;
    this.activatedAt = at;
    this.changes++;
    if (this.candidatePolicy?.version === policy.version) this.candidatePolicy = null;
  }

  setCandidate(policy: CompiledPolicy | null): void {
    this.candidatePolicy = policy;
    this.changes++;
  }
}
