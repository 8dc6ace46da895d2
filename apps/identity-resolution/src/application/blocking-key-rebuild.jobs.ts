import { randomUUID } from 'node:crypto';
import type { Logger } from '@clinmesh/observability';
import type { AuditTrail } from '@clinmesh/security';
import { KeyRebuildNotFoundError, KeyRebuildRunningError } from '../domain/identity.errors';
import { NO_PROGRESS, type BlockingKeyRebuildResult, type KeyRebuildJob, type KeyRebuildJobPort } from '../domain/key-rebuild-job.model';
import type { BlockingKeyRebuild } from './blocking-key.rebuild';
import type { IndexTransaction } from './match-parameters.commands';

export interface KeyRebuildJobOptions {
  /** A running job whose last page is older than this has lost its process (a crash): the next start takes over. */
  staleAfterMs?: number;
  newId?: () => string;
}

/**
 * The blocking-key rebuild as a background job: an index of millions of records takes minutes, longer than
 * an HTTP request should stay open, so a start answers at once with the job and the work goes on in this
 * process, page by page, its progress and heartbeat kept on the job's row (`KeyRebuildJobPort`) for anyone
 * following it — on any replica. One runs at a time across replicas; a graceful stop ends the running one
 * as `interrupted` between pages (`stop`), and a crash leaves it `running` until its heartbeat is stale,
 * when the next start marks it `interrupted`. Re-running after either is safe: the rebuild is idempotent.
 * How a job ended goes into the audit trail under the operator who started it (the start is audited by the
 * HTTP command), so the trail says what an operator command did, not only that it was asked for.
 */
export class BlockingKeyRebuildJobs {
  private readonly staleAfterMs: number;
  private readonly newId: () => string;
  private current: { id: string; abort: AbortController; finished: Promise<void> } | undefined;

  constructor(
    private readonly rebuild: BlockingKeyRebuild,
    private readonly tx: IndexTransaction,
    private readonly jobs: KeyRebuildJobPort,
    private readonly audit: Pick<AuditTrail, 'record'>,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>,
    options: KeyRebuildJobOptions = {},
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.newId = options.newId ?? randomUUID;
  }

  /** Starts a rebuild and answers with its job (`running`); 409 (`KeyRebuildRunningError`) while another runs. */
  async start(requestedBy: string): Promise<KeyRebuildJob> {
    const begun = await this.jobs.begin(this.newId(), requestedBy, this.staleAfterMs);
    if ('running' in begun) throw new KeyRebuildRunningError(begun.running);
    const job = begun.started;
    const abort = new AbortController();
    this.current = { id: job.id, abort, finished: this.runJob(job, abort.signal) };
    return job;
  }

  async get(id: string): Promise<KeyRebuildJob> {
    const job = await this.jobs.get(id);
    if (!job) throw new KeyRebuildNotFoundError(id);
    return job;
  }

  /** The newest jobs (at most `limit`), newest first: the running one, if any, and how the last ones ended. */
  recent(limit = 20): Promise<KeyRebuildJob[]> {
    return this.jobs.recent(limit);
  }

  /** Ends this process's running job between pages, as `interrupted` (the service's graceful stop). */
  async stop(): Promise<void> {
    const current = this.current;
    if (!current) return;
    current.abort.abort();
    await current.finished;
  }

  /** Resolves when this process's job (if any) has ended and its row says how. */
  async whenFinished(): Promise<void> {
    await this.current?.finished;
  }

  private async runJob({ id, requestedBy }: KeyRebuildJob, signal: AbortSignal): Promise<void> {
    let progress: BlockingKeyRebuildResult = { ...NO_PROGRESS };
    const end = async (state: 'done' | 'failed' | 'interrupted', error: string | null) => {
      try {
        const job = await this.jobs.finish(id, state, progress, error);
        this.logger.info({ job: id, state, ...job.progress, error }, `blocking-key rebuild ${state}`);
      } catch (err) {
        // The row stays `running` and goes stale: the next start marks it interrupted.
        this.logger.error({ job: id, state, error: (err as Error).name }, 'blocking-key rebuild: could not record how it ended');
      }
      try {
        await this.audit.record({
          actor: requestedBy, action: 'blocking-key-rebuild-ended', resource: `identity/blocking-key-rebuilds/${id}`,
          outcome: state === 'done' ? 'allowed' : 'error', details: { job: id, state, error, ...progress },
        });
      } catch (err) {
        this.logger.error({ job: id, state, error: (err as Error).name }, 'blocking-key rebuild: could not audit how it ended');
      }
    };
    this.logger.info({ job: id }, 'blocking-key rebuild started');
    try {
      progress = await this.rebuild.run(this.tx, {
        signal,
        onPage: async (total) => {
          progress = total;
          await this.jobs.progress(id, total);
        },
      });
      await end('done', null);
    } catch (err) {
      if (signal.aborted) await end('interrupted', 'the service stopped');
      else await end('failed', errorCode(err));
    } finally {
      if (this.current?.id === id) this.current = undefined;
    }
  }
}

/** An error's code or name — never its message, which could quote record content. */
function errorCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  return typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'Error';
}
