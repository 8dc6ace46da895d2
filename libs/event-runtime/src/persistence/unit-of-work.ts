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
}

export function unitOfWork(runner: QueryRunner, committed: Array<() => void> = []): UnitOfWork {
  return {
    manager: runner.manager,
    afterCommit(callback) {
      if (!committed.includes(callback)) committed.push(callback);
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
    const result = await work(unitOfWork(runner, committed));
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
