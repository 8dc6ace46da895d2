/** Retry schedule and circuit breaking for webhook deliveries. */
export const MAX_ATTEMPTS = 12;

/** Exponential backoff with full jitter, capped: ~0.5 s, 1 s, 2 s … 5 min. */
export function nextAttemptDelayMs(attempt: number, random = Math.random): number {
  const base = Math.min(300_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + random() * (base / 2));
}

/** 4xx other than 408/429 will not succeed on retry: the subscriber refused the content. */
export function isPermanentFailure(status: number | null): boolean {
  return status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Per-subscriber circuit: after `threshold` consecutive failures, stop
 * calling it for `openMs`, then let one probe through (half-open).
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(private readonly threshold = 5, private readonly openMs = 30_000) {}

  allow(now = Date.now()): boolean {
    if (this.failures < this.threshold) return true;
    if (now - this.openedAt < this.openMs || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
  }

  failure(now = Date.now()): void {
    this.failures += 1;
    this.probing = false;
    if (this.failures >= this.threshold) this.openedAt = now;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.failures < this.threshold) return 'closed';
    return Date.now() - this.openedAt < this.openMs ? 'open' : 'half-open';
  }
}
