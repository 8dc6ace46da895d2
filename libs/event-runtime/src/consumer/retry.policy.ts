import { isRetriable } from '@clinmesh/errors';

/**
 * The runtime's one retry policy for infrastructure failures (database,
 * registry, broker): exponential backoff, retriable errors only, a bounded
 * number of attempts. Non-retriable errors are the caller's to classify
 * (dead letter); a retriable error that outlasts the attempts is rethrown so
 * the consumer restarts from its last committed position.
 */
export class RetryPolicy {
  constructor(
    readonly maxAttempts: number,
    private readonly onRetry: (error: unknown, attempt: number) => void = () => undefined,
    private readonly baseMs = 100,
    private readonly capMs = 5000,
  ) {}

  delayMs(attempt: number): number {
    return Math.min(this.capMs, this.baseMs * 2 ** attempt);
  }

  /**
   * Runs `work` until it succeeds, fails with a non-retriable error, or has
   * been attempted `maxAttempts` times in all; `tally.attempts` counts every
   * attempt (pass one that already counts attempts made elsewhere).
   */
  async run<T>(work: () => Promise<T>, tally: { attempts: number } = { attempts: 0 }): Promise<T> {
    for (;;) {
      if (tally.attempts > 0) await new Promise((r) => setTimeout(r, this.delayMs(tally.attempts)));
      tally.attempts += 1;
      try {
        return await work();
      } catch (error) {
        if (!isRetriable(error) || tally.attempts >= this.maxAttempts) throw error;
        this.onRetry(error, tally.attempts);
      }
    }
  }
}
