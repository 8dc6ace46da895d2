import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EventRuntime, inTransaction } from '@clinmesh/event-runtime';
import { PersonIndexRepository } from '../persistence/person-index.repository';
import { IdentityChangeLog } from '../../application/identity-change.log';

/**
 * HTTP-triggered index changes: the use case and the identity events it
 * produced commit in one transaction (the runtime's one publish path), with
 * event ids derived from the operation id so a retried request with the same
 * id publishes the same ids.
 */
export async function inIdentityTransaction<T>(
  runtime: EventRuntime,
  operationId: string,
  correlationId: string | undefined,
  work: (repo: PersonIndexRepository, changes: IdentityChangeLog) => Promise<T>,
): Promise<T> {
  return runtime.inTransaction({ id: operationId, correlationId: correlationId || operationId, tier: 'routine' }, async (ctx) => {
    const changes = new IdentityChangeLog();
    const result = await work(new PersonIndexRepository(ctx.uow), changes);
    changes.publish(ctx);
    return result;
  });
}

/** Work on the index in its own short transaction (reads, and the operator commands' writes that emit no event). */
export function readIndex<T>(db: DataSource, work: (repo: PersonIndexRepository) => Promise<T>): Promise<T> {
  return inTransaction(db, (uow) => work(new PersonIndexRepository(uow)));
}

export function newOperationId(): string {
  return randomUUID();
}
