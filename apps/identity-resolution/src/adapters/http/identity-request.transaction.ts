import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EventRuntime, deriveEventId, inTransaction } from '@clinmesh/event-runtime';
import { EVENT_TOPICS } from '@clinmesh/topology';
import type { IdentityEvent } from '@clinmesh/schemas';
import { PersonIndexRepository } from '../persistence/person-index.repository';
import { IdentityChangeLog } from '../../application/identity-change.log';

/**
 * HTTP-triggered index changes: the use case and the identity events it
 * produced commit in one transaction (outbox), with event ids derived from
 * the operation id so a retried request with the same id publishes the same
 * ids.
 */
export async function inIdentityTransaction<T>(
  runtime: EventRuntime,
  operationId: string,
  correlationId: string | undefined,
  work: (repo: PersonIndexRepository, changes: IdentityChangeLog) => Promise<T>,
): Promise<T> {
  return runtime.transaction(async (uow) => {
    const changes = new IdentityChangeLog();
    const result = await work(new PersonIndexRepository(uow), changes);
    const at = Date.now();
    const events = changes.changes.map(({ purpose, change }) => {
      const value: IdentityEvent = { eventId: deriveEventId(operationId, purpose), correlationId: correlationId || operationId, ...change, at };
      return { topic: EVENT_TOPICS.identity, key: change.epid, value, meta: { eventId: value.eventId, correlationId: value.correlationId, tier: 'routine' as const, eventType: 'IdentityEvent' } };
    });
    if (events.length) await runtime.publish(uow, events);
    return result;
  });
}

/** Read-only access to the index (its own short transaction, consistent snapshot per statement). */
export function readIndex<T>(db: DataSource, work: (repo: PersonIndexRepository) => Promise<T>): Promise<T> {
  return inTransaction(db, (uow) => work(new PersonIndexRepository(uow)));
}

export function newOperationId(): string {
  return randomUUID();
}
