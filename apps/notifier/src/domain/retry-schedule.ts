/**
 * Retry schedule (Standard Webhooks / Svix shape): the first attempt is
 * immediate, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; each delay
 * jittered. Exhausting it makes the delivery dead.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `5s,5m,30m,2h,5h,10h,10h` (units ms, s, m, h, d) → delays in ms. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  return parts.map((p) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(p);
    if (!m) throw new Error(`"${p}" is not a duration like 5s, 30m, 2h`);
    return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
  });
}

/** Delay before the attempt after `attemptsMade` attempts, or null when the schedule is exhausted. */
export function retryDelayMs(attemptsMade: number, schedule: readonly number[], jitter: number, random: () => number = Math.random): number | null {
  if (attemptsMade < 1 || attemptsMade > schedule.length) return null;
  const base = schedule[attemptsMade - 1];
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/** Retry-After: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined | null, now: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** What one attempt's answer means for the delivery and the endpoint. */
export type AttemptVerdict =
  | { kind: 'delivered' }
  /** Retry per schedule; `retryAfterMs` when the subscriber asked for a delay. */
  | { kind: 'retry'; reason: string; retryAfterMs: number | null }
  /** Stop retrying this message (the subscriber said so); the delivery is dead. */
  | { kind: 'abort'; reason: string }
  /** 410 Gone: the endpoint is disabled, the delivery dead. */
  | { kind: 'gone'; reason: string };

export interface AttemptResult {
  status: number | null;
  headers: Record<string, string | undefined>;
  /** Transport error / timeout / refusal. */
  error: string | null;
  errorCode: string | null;
}

/**
 * 2xx within the timeout only; redirects are failures (never followed);
 * 410 disables the endpoint; 429 and 503 honour Retry-After;
 * `webhook-delivery: abort-message` stops retries for this message.
 */
export function judgeAttempt(r: AttemptResult, now: number): AttemptVerdict {
  if (r.status !== null && (r.headers['webhook-delivery'] ?? '').toLowerCase().includes('abort-message')) {
    return { kind: 'abort', reason: 'ABORTED_BY_RECEIVER' };
  }
  if (r.status === null) return { kind: 'retry', reason: r.errorCode ?? 'TRANSPORT', retryAfterMs: null };
  if (r.status >= 200 && r.status < 300) return { kind: 'delivered' };
  if (r.status === 410) return { kind: 'gone', reason: 'HTTP_410' };
  if (r.status >= 300 && r.status < 400) return { kind: 'retry', reason: 'REDIRECT_NOT_FOLLOWED', retryAfterMs: null };
  if (r.status === 429 || r.status === 503) return { kind: 'retry', reason: `HTTP_${r.status}`, retryAfterMs: parseRetryAfter(r.headers['retry-after'], now) };
  return { kind: 'retry', reason: `HTTP_${r.status}`, retryAfterMs: null };
}
