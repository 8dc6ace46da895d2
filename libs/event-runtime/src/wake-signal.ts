/**
 * A loop's sleep that a notify cuts short. A notify that comes while the loop is working (after
 * it took the last one) is kept, so the next sleep returns at once: the pass that was running
 * may have selected before the notifying transaction committed.
 */
export class WakeSignal {
  private wake: (() => void) | null = null;
  private pending = false;

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  /** The loop is about to look: notifications so far are answered by this pass. */
  take(): void {
    this.pending = false;
  }

  /** Sleeps `ms`, or until notified; returns at once if notified since the last take (unless `evenIfNotified`: backoffs). */
  sleep(ms: number, options: { evenIfNotified?: boolean } = {}): Promise<void> {
    if (this.pending && !options.evenIfNotified) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }
}
