import { isAbsolute, join } from 'node:path';
import { SettingsReader } from '@clinmesh/service-kit';

/** Policy's own settings (`POLICY_*`), read and validated once at start, every problem listed. */
export interface PolicyConfig {
  /** Folder of the policy data and their JSON Schemas (policy-set.json, identifier-systems.json, *.schema.json). */
  policyDir: string;
  /** Secret of the per-audience pseudonyms (HMAC) of de-identified views. */
  pseudonymSecret: string;
  /** Longest break-glass grant. */
  breakGlassMaxSeconds: number;
  breakGlassMinReasonLength: number;
  /** How often the durable timer looks for due grants. */
  breakGlassTimerMs: number;
  /** How often the durable timer looks for held views (delay rules) whose release time has come. */
  heldViewTimerMs: number;
  /** How often a replica checks the database for a version activated or a candidate loaded through another replica. */
  versionFollowMs: number;
  /** How far back a consent change re-decides released decisions (pending deliveries are younger). */
  revocationLookbackMs: number;
}

/**
 * `root` is the repository (deployment) root the services run from — the
 * policy data are found from it, never by climbing out of dist/.
 */
export function loadPolicyConfig(env: (name: string) => string | undefined, patientKeySecret: string, root = process.cwd()): PolicyConfig {
  const s = new SettingsReader('POLICY', env);
  const dir = s.string('DIR', join('apps', 'policy', 'policy'));
  const pseudonymSecret = s.string('PSEUDONYM_SECRET', `${patientKeySecret}:policy-pseudonyms`);
  if (pseudonymSecret.length < 16) s.problem('POLICY_PSEUDONYM_SECRET must be at least 16 characters');
  const config: PolicyConfig = {
    policyDir: isAbsolute(dir) ? dir : join(root, dir),
    pseudonymSecret,
    breakGlassMaxSeconds: s.int('BREAK_GLASS_MAX_SECONDS', 4 * 3600, { min: 1, max: 7 * 24 * 3600 }),
    breakGlassMinReasonLength: s.int('BREAK_GLASS_MIN_REASON_LENGTH', 10, { min: 1, max: 1000 }),
    breakGlassTimerMs: s.int('BREAK_GLASS_TIMER_MS', 1000, { min: 50, max: 3_600_000 }),
    heldViewTimerMs: s.int('HELD_VIEW_TIMER_MS', 1000, { min: 50, max: 3_600_000 }),
    versionFollowMs: s.int('VERSION_FOLLOW_MS', 5000, { min: 100, max: 3_600_000 }),
    revocationLookbackMs: s.int('REVOCATION_LOOKBACK_HOURS', 72, { min: 1, max: 24 * 365 }) * 3_600_000,
  };
  s.assertValid('policy');
  return config;
}
