import type { PersonRecord } from '@clinmesh/empi';
import type { MasterPatientIndex } from './master-patient-index';
import type { IndexTransaction } from './match-parameters.commands';
import { NO_PROGRESS, type BlockingKeyRebuildResult } from '../domain/key-rebuild-job.model';

export type { BlockingKeyRebuildResult };

/** A run's observers: `onPage` after each committed page (the running total), `signal` to stop between pages (an AbortError). */
export interface RebuildHooks {
  onPage?: (total: BlockingKeyRebuildResult) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Operator command: brings every stored record's blocking keys to the key scheme in force. A record's keys
 * are derived when it is saved, so a release that adds a key kind (libs/empi's `nmd:`, `fy:` on the given
 * name) reaches new and re-sent records only; the records indexed before it stay invisible to the new kind
 * until this runs. It changes no link and no person — keys only decide which records are compared — so it
 * emits no identity event; the HTTP adapter audits it.
 *
 * Runs beside live matching, one short transaction per page of `pageSize` records, in record-id order:
 * a page locks its rows with SKIP LOCKED (a chunk saving one of them writes fresh keys itself); the records
 * held at that moment are retried once at the end and otherwise reported as `skipped`. Idempotent: a
 * second run finds nothing to change.
 */
export class BlockingKeyRebuild {
  constructor(private readonly index: MasterPatientIndex, private readonly pageSize = 500) {}

  /**
   * Whether the index needs a rebuild, cheaply (the service checks at start): the first `sampleSize` records
   * by id — an order unrelated to when they were saved — compared with the keys the scheme in force derives.
   * Reads only.
   */
  async check(tx: IndexTransaction, sampleSize = 200): Promise<{ sampled: number; stale: number }> {
    const page = await tx((repo) => repo.candidates.rekeyPage({ after: '', limit: sampleSize }, (record) => this.index.blockingKeysOf(record), { dryRun: true }));
    return { sampled: page.records, stale: page.rekeyed };
  }

  async run(tx: IndexTransaction, hooks: RebuildHooks = {}): Promise<BlockingKeyRebuildResult> {
    const keysOf = (record: PersonRecord) => this.index.blockingKeysOf(record);
    const total: BlockingKeyRebuildResult = { ...NO_PROGRESS };
    const next = async () => {
      await hooks.onPage?.({ ...total });
      hooks.signal?.throwIfAborted();
    };
    const held: string[] = [];
    const add = (page: { records: number; rekeyed: number; keysAdded: number; keysRemoved: number }) => {
      total.records += page.records;
      total.rekeyed += page.rekeyed;
      total.keysAdded += page.keysAdded;
      total.keysRemoved += page.keysRemoved;
      total.pages += 1;
    };
    hooks.signal?.throwIfAborted();
    for (let after: string | null = ''; after !== null;) {
      const cursor: string = after;
      const page = await tx((repo) => repo.candidates.rekeyPage({ after: cursor, limit: this.pageSize }, keysOf));
      if (page.last === null) break;
      add(page);
      held.push(...page.skippedIds);
      after = page.last;
      await next();
    }
    for (let i = 0; i < held.length; i += this.pageSize) {
      const page = await tx((repo) => repo.candidates.rekeyPage({ ids: held.slice(i, i + this.pageSize) }, keysOf));
      add(page);
      total.skipped += page.skippedIds.length;
      await next();
    }
    return total;
  }
}
