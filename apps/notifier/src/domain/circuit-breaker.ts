/**
 * Per-subscription circuit breaker, as state kept in the database so every
 * replica sees the same breaker. Pure transitions; the repository applies them
 * with row locks, and the half-open probe is claimed by one atomic UPDATE.
 *
 * closed --(threshold consecutive failures)--> open --(openMs elapsed, one probe claimed)--> half_open
 * half_open --(probe delivered)--> closed; half_open --(probe failed)--> open (again for openMs)
 * A half-open probe whose worker died is re-claimable once its lease passes (never stuck half-open).
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface Breaker {
  state: BreakerState;
  consecutiveFailures: number;
  /** When an open breaker admits a probe. */
  openUntil: number | null;
}

export interface BreakerSettings {
  failureThreshold: number;
  openMs: number;
}

export function afterSuccess(): Breaker {
  return { state: 'closed', consecutiveFailures: 0, openUntil: null };
}

export function afterFailure(b: Breaker, s: BreakerSettings, now: number): Breaker {
  const failures = b.consecutiveFailures + 1;
  if (b.state === 'half_open' || failures >= s.failureThreshold) return { state: 'open', consecutiveFailures: failures, openUntil: now + s.openMs };
  return { state: 'closed', consecutiveFailures: failures, openUntil: null };
}
