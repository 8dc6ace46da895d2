import { isAbsolute, join } from 'node:path';
import { ClinmeshError } from '@clinmesh/errors';

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
  /** How far back a consent change re-decides released decisions (pending deliveries are younger). */
  revocationLookbackMs: number;
}

/**
 * `root` is the repository (deployment) root the services run from — the
 * policy data are found from it, never by climbing out of dist/.
 */
export function loadPolicyConfig(env: (name: string) => string | undefined, patientKeySecret: string, root = process.cwd()): PolicyConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env(name);
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) { problems.push(`POLICY_${name} must be an integer between ${min} and ${max} (got ${JSON.stringify(raw)})`); return fallback; }
    return n;
  };
  const dir = env('DIR') ?? join('apps', 'policy', 'policy');
  const pseudonymSecret = env('PSEUDONYM_SECRET') ?? `${patientKeySecret}:policy-pseudonyms`;
  if (pseudonymSecret.length < 16) problems.push('POLICY_PSEUDONYM_SECRET must be at least 16 characters');
  const config: PolicyConfig = {
    policyDir: isAbsolute(dir) ? dir : join(root, dir),
    pseudonymSecret,
    breakGlassMaxSeconds: int('BREAK_GLASS_MAX_SECONDS', 4 * 3600, 1, 7 * 24 * 3600),
    breakGlassMinReasonLength: int('BREAK_GLASS_MIN_REASON_LENGTH', 10, 1, 1000),
    breakGlassTimerMs: int('BREAK_GLASS_TIMER_MS', 1000, 50, 3_600_000),
    revocationLookbackMs: int('REVOCATION_LOOKBACK_HOURS', 72, 1, 24 * 365) * 3_600_000,
  };
  if (problems.length) throw new ClinmeshError('CONFIG.INVALID', `policy: invalid configuration:\n - ${problems.join('\n - ')}`, { details: { errors: problems } });
  return config;
}
