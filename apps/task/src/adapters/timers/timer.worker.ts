import { Logger } from '@clinmesh/observability';
import { FireDueTimersHandler } from '../../application/fire-due-timers.handler';

/**
 * Polls the due index and fires what is due; started after the consumers,
 * stopped before the runtime. Overdue timers (the service was down) fire on
 * the first poll. Several replicas can run it: each task is claimed with
 * SKIP LOCKED.
 */
export class TimerWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly fire: FireDueTimersHandler, private readonly options: { pollMs: number; batch: number; concurrency: number }, private readonly logger: Logger) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => { this.running = null; });
    }, delay);
  }

  private async tick(): Promise<void> {
    let fired = 0;
    try {
      fired = await this.fire.fireDue(this.options.batch, this.options.concurrency);
    } catch (err) {
      this.logger.warn({ err: String((err as Error)?.message ?? err).slice(0, 300) }, 'SLA timers: firing failed; retrying at the next poll');
    }
    // A full batch means more may be due: go again at once.
    this.schedule(fired >= this.options.batch ? 0 : this.options.pollMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
