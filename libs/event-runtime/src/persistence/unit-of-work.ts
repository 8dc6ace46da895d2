import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { queryPrepared, type StatementOptions } from './prepared-statement';

/**
 * A database transaction handed to application handlers. Everything a handler
 * does through it (its own tables, the outbox) commits or rolls back together
 * with the inbox row and the stored consumer offset.
 */
export interface UnitOfWork {
  readonly manager: EntityManager;
  /** `prepared`: a fixed statement run often, planned once per connection (prepared-statement.ts). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: StatementOptions): Promise<T[]>;
  /** Rows affected by a write. */
  execute(sql: string, params?: unknown[], options?: StatementOptions): Promise<number>;
  /**
   * Run `callback` once this transaction has committed (never when it rolls back): wake a
   * worker that reads what the transaction wrote. Woken earlier, it would find nothing visible
   * yet and sleep until its next poll.
   */
  afterCommit(callback: () => void): void;
  /**
   * Write at the end of this transaction instead of now, in the round trip of its closing statement:
   * a consumer's transaction carries deferred writes as data-modifying CTEs of the statement that
   * writes its inbox, outbox and offsets; any other transaction runs them, together, just before it
   * commits. For writes nobody needs an answer from, to rows nothing later in the transaction reads:
   * the deferred statements see the snapshot of the closing statement, not each other's rows, and no
   * read in the transaction sees them. Two deferred writes never touch the same row. A failing one
   * fails the transaction, as it would have at once. `sql` is one INSERT, UPDATE or DELETE with
   * placeholders `$1`…`$n` for `params` (renumbered when combined; no other `$` in it).
   */
  deferWrite(sql: string, params?: unknown[]): void;
}

/** A write deferred to the end of its transaction (`UnitOfWork.deferWrite`). */
export interface DeferredWrite {
  sql: string;
  params: unknown[];
}

/** Deferred writes of each open unit of work, taken by whoever closes it. */
const deferredWrites = new WeakMap<UnitOfWork, DeferredWrite[]>();

/** The deferred writes of `uow` not yet taken (the closing statement or the commit runs them once). */
export function takeDeferredWrites(uow: UnitOfWork): DeferredWrite[] {
  const writes = deferredWrites.get(uow) ?? [];
  deferredWrites.delete(uow);
  return writes;
}

/** `write`'s statement with its placeholders moved past the `params` already bound; its values appended to them. */
export function bindDeferred(write: DeferredWrite, params: unknown[]): string {
  const base = params.length;
  params.push(...write.params);
  return write.sql.replace(/\$(\d+)/g, (_, n: string) => `$${base + Number(n)}`);
}

/**
 * Statements as one: all but the last become data-modifying CTEs of the last (`WITH w0 AS (…), … last`),
 * one round trip. They run on one snapshot and must not touch each other's rows.
 */
export function combinedStatement(statements: string[]): string {
  const last = statements[statements.length - 1];
  const before = statements.slice(0, -1);
  return before.length ? `WITH ${before.map((st, i) => `w${i} AS (${st})`).join(', ')} ${last}` : last;
}

export function unitOfWork(runner: QueryRunner, committed: Array<() => void> = []): UnitOfWork {
  const uow: UnitOfWork = {
    manager: runner.manager,
    afterCommit(callback) {
      if (!committed.includes(callback)) committed.push(callback);
    },
    deferWrite(sql, params = []) {
      // A `$` that is not a placeholder (a literal, dollar quoting) would be renumbered too.
      if (/\$(?!\d)/.test(sql)) throw new Error('a deferred write may use $ only in its placeholders $1…$n');
      const writes = deferredWrites.get(uow) ?? [];
      writes.push({ sql, params });
      deferredWrites.set(uow, writes);
    },
    async query<T>(sql: string, params?: unknown[], options?: StatementOptions) {
      if (options?.prepared) return (await queryPrepared<T>(runner, sql, params)).rows;
      const result = await runner.query(sql, params, true);
      return (result.records ?? []) as T[];
    },
    async execute(sql: string, params?: unknown[], options?: StatementOptions) {
      if (options?.prepared) return (await queryPrepared(runner, sql, params)).rowCount;
      const result = await runner.query(sql, params, true);
      return Number(result.affected ?? 0);
    },
  };
  return uow;
}

/** `T` of a unit of work, made on first use; `forget` drops it (the next use makes a new one). */
export interface PerUnitOfWork<T, K extends object = UnitOfWork> {
  (uow: K): T;
  forget(uow: K): void;
}

/**
 * One `T` per unit of work: a transaction's chunk store (state buffered by the handlers of one
 * consumer transaction and written in its complete step). Held weakly: it goes with the transaction.
 */
export function perUnitOfWork<T, K extends object = UnitOfWork>(create: (uow: K) => T): PerUnitOfWork<T, K> {
  const open = new WeakMap<K, T>();
  const of = (uow: K): T => {
    let value = open.get(uow);
    if (value === undefined) open.set(uow, (value = create(uow)));
    return value;
  };
  return Object.assign(of, { forget: (uow: K) => void open.delete(uow) });
}

/** Runs `work` in one transaction on its own connection. */
export async function inTransaction<T>(dataSource: DataSource, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const committed: Array<() => void> = [];
  try {
    await runner.startTransaction();
    const uow = unitOfWork(runner, committed);
    const result = await work(uow);
    // Deferred writes the work's own closing statement did not carry (an HTTP request, a timer): one statement.
    const deferred = takeDeferredWrites(uow);
    if (deferred.length) {
      const params: unknown[] = [];
      await runner.query(combinedStatement(deferred.map((write) => bindDeferred(write, params))), params);
    }
    await runner.commitTransaction();
    for (const callback of committed) callback();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}
