/** Rate and burst of one token bucket: `ratePerSecond` tokens refill per second up to `burst`. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

export interface SenderRateLimits {
  /** Applies to every sender without an override; `undefined` = unlimited. */
  default?: RateLimit;
  /** Per sender: keyed by the full sender (`APP^FACILITY`) or by the sending application alone. */
  overrides: ReadonlyMap<string, RateLimit>;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number; limit: RateLimit };

interface Bucket {
  tokens: number;
  at: number;
  limit: RateLimit;
}

/** Buckets kept at most; beyond this the fullest (idlest) are forgotten, which only ever errs towards admitting. */
const MAX_BUCKETS = 10_000;

/**
 * Request rate per sender as a token bucket (one token per message, or per
 * batch request): a sender may burst up to `burst` messages and then sustain
 * `ratePerSecond`. Pure and clock-injected so it is unit-testable; one
 * instance per ingest process (a replica limits its own share).
 */
export class SenderRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: SenderRateLimits, private readonly now: () => number = () => performance.now()) {}

  /** The limit for `sender` (`APP^FACILITY`), if any. */
  limitFor(sender: string): RateLimit | undefined {
    const app = sender.split('^')[0];
    return this.limits.overrides.get(sender) ?? this.limits.overrides.get(app) ?? this.limits.default;
  }

  take(sender: string): RateDecision {
    const limit = this.limitFor(sender);
    if (!limit || limit.ratePerSecond <= 0) return { allowed: true };
    const t = this.now();
    let b = this.buckets.get(sender);
    if (!b || b.limit !== limit) {
      if (this.buckets.size >= MAX_BUCKETS) this.evict(t);
      b = { tokens: limit.burst, at: t, limit };
      this.buckets.set(sender, b);
    }
    b.tokens = Math.min(limit.burst, b.tokens + ((t - b.at) / 1000) * limit.ratePerSecond);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - b.tokens) / limit.ratePerSecond) * 1000), limit };
  }

  private evict(t: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * b.limit.ratePerSecond >= b.limit.burst) this.buckets.delete(k);
    }
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
  }
}

/**
 * Reads `INGEST_RATE_LIMIT_PER_SECOND`, `INGEST_RATE_LIMIT_BURST` and
 * `INGEST_RATE_LIMIT_OVERRIDES` (`SENDER=rate[:burst],…`, sender = `APP` or
 * `APP^FACILITY`). Burst defaults to twice the rate (at least 1). Returns the
 * problems instead of throwing so config errors are reported together.
 */
export function parseRateLimits(values: { perSecond?: string; burst?: string; overrides?: string }): { limits: SenderRateLimits; problems: string[] } {
  const problems: string[] = [];
  const num = (v: string, what: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) problems.push(`${what} must be a non-negative number (got "${v}")`);
    return n;
  };
  const make = (rate: number, burst: number | undefined): RateLimit => ({ ratePerSecond: rate, burst: Math.max(1, burst ?? Math.ceil(rate * 2)) });
  const rate = values.perSecond ? num(values.perSecond, 'INGEST_RATE_LIMIT_PER_SECOND') : 0;
  const burst = values.burst ? num(values.burst, 'INGEST_RATE_LIMIT_BURST') : undefined;
  const overrides = new Map<string, RateLimit>();
  for (const part of (values.overrides ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(.+?)=([0-9.]+)(?::([0-9.]+))?$/.exec(part);
    if (!m) {
      problems.push(`INGEST_RATE_LIMIT_OVERRIDES entry "${part}" must look like SENDER=rate[:burst]`);
      continue;
    }
    overrides.set(m[1], make(num(m[2], `rate of ${m[1]}`), m[3] === undefined ? undefined : num(m[3], `burst of ${m[1]}`)));
  }
  return { limits: { default: rate > 0 ? make(rate, burst) : undefined, overrides }, problems };
}
