/** What a blocking-key rebuild did (so far, while it runs). */
export interface BlockingKeyRebuildResult {
  /** Records read (each once, unless retried after being held). */
  records: number;
  /** Records whose stored key set differed from the scheme in force and was replaced. */
  rekeyed: number;
  keysAdded: number;
  keysRemoved: number;
  /** Records other transactions still held after the retry (run the command again for them). */
  skipped: number;
  /** Transactions used (one per page). */
  pages: number;
}

export const NO_PROGRESS: BlockingKeyRebuildResult = { records: 0, rekeyed: 0, keysAdded: 0, keysRemoved: 0, skipped: 0, pages: 0 };

/**
 * `running` until the last page; then `done`, or `failed` (an error ended it), or `interrupted` (its
 * process stopped first — on a graceful stop at once, after a crash once its heartbeat is stale). The
 * rebuild is idempotent: after `failed` or `interrupted`, starting a new one finishes the work.
 */
export type KeyRebuildState = 'running' | 'done' | 'failed' | 'interrupted';

/** One run of the rebuild, kept as a row: who asked, when, how far it got, how it ended. */
export interface KeyRebuildJob {
  id: string;
  state: KeyRebuildState;
  requestedBy: string;
  startedAt: string;
  /** The last page's commit (a running job whose heartbeat is stale has lost its process). */
  heartbeatAt: string;
  finishedAt: string | null;
  progress: BlockingKeyRebuildResult;
  /** Why it failed or was interrupted: an error code or name, never record content. */
  error: string | null;
}

/** The jobs' rows, each call in its own short transaction. */
export interface KeyRebuildJobPort {
  /**
   * Starts a job unless one is running: a running job without a heartbeat for `staleAfterMs` is marked
   * `interrupted` first. At most one runs at a time across replicas (a unique index decides).
   */
  begin(id: string, requestedBy: string, staleAfterMs: number): Promise<{ started: KeyRebuildJob } | { running: KeyRebuildJob }>;
  /** Progress so far, and the heartbeat. */
  progress(id: string, progress: BlockingKeyRebuildResult): Promise<void>;
  finish(id: string, state: Exclude<KeyRebuildState, 'running'>, progress: BlockingKeyRebuildResult, error: string | null): Promise<KeyRebuildJob>;
  get(id: string): Promise<KeyRebuildJob | undefined>;
  /** The newest `limit` jobs, newest first. */
  recent(limit: number): Promise<KeyRebuildJob[]>;
}
