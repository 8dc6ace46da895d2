import type { EventContext, InboundEvent, UnitOfWork } from '@clinmesh/event-runtime';
import { EVENT_TOPICS } from '@clinmesh/topology';
import type { DeliveryEvent, IdentityEvent, PolicyEvent } from '@clinmesh/schemas';
import type { StoredConsent, StoresFactory } from './ports';

/** A policy event with the fields every kind shares. */
export function policyEvent(ctx: EventContext, purpose: string, e: Omit<PolicyEvent, 'eventId' | 'correlationId' | 'at' | 'details' | 'audience' | 'actor' | 'reason' | 'expiresAt'> & Partial<PolicyEvent>, at = Date.now()): void {
  const eventId = ctx.deriveEventId(purpose);
  const value: PolicyEvent = {
    eventId, correlationId: ctx.origin.correlationId, at, details: {}, audience: null, actor: null, reason: null, expiresAt: null, ...e,
  };
  ctx.emit({ topic: EVENT_TOPICS.policy, key: e.epid ?? e.subjectId, value, eventId });
}

/**
 * clinical.identity.events → policy's own record-key → EPID index (record keys
 * are keyed hashes of assigning authority + identifier, no PHI): a consent
 * waiting for its patient applies as soon as the patient appears
 * (CONSENT_APPLIED); consents, grants and decisions follow merges. A lane's
 * combined commit may hold these events and canonical ones in one transaction:
 * the transaction's chunk store writes its buffered decisions before a merge
 * moves them and re-reads the changed patients, so the canonical events after
 * it decide on the new state.
 */
export class IdentityEventsHandler {
  constructor(private readonly stores: StoresFactory) {}

  /** Per transaction: the consents `prepare` applied for each link event of the chunk (by event id), taken by `handle`. */
  private readonly prepared = new WeakMap<UnitOfWork, Map<string, StoredConsent[]>>();

  /**
   * The consumer's prepare step: a chunk of link events (PERSON_CREATED, RECORD_LINKED) is written
   * set-based — one upsert of the record-key index and one statement applying the pending consents
   * they name — instead of two statements per event; `handle` then only emits. Same rows and events
   * as one by one: the links are written in order, and a pending consent goes to the first link
   * naming it. A chunk holding a merge or an unmerge is left to `handle` event by event: those move
   * index rows, so the links around them must keep their place.
   */
  async prepare(events: Array<InboundEvent<IdentityEvent>>, uow: UnitOfWork): Promise<void> {
    if (events.some((e) => e.value.type === 'PERSONS_MERGED' || e.value.type === 'PERSONS_UNMERGED')) return;
    const links = events.filter((e) => isLink(e.value) && e.value.recordKey);
    if (!links.length) return;
    const s = this.stores(uow);
    const pairs = links.map((e) => ({ recordKey: e.value.recordKey!, epid: e.value.epid }));
    await s.identities.upsertMany(pairs);
    const applied = await s.consents.resolvePendingMany(pairs);
    this.prepared.set(uow, new Map(links.map((e, i) => [e.eventId, applied[i]])));
  }

  async handle(event: InboundEvent<IdentityEvent>, ctx: EventContext): Promise<void> {
    const e = event.value;
    const s = this.stores(ctx.uow);
    switch (e.type) {
      case 'PERSON_CREATED':
      case 'RECORD_LINKED': {
        if (!e.recordKey) return;
        const prepared = this.prepared.get(ctx.uow)?.get(event.eventId);
        let applied = prepared;
        if (!applied) {
          await s.identities.upsert(e.recordKey, e.epid);
          applied = await s.consents.resolvePending(e.recordKey, e.epid);
        }
        // In id order on both paths, so the emitted events do not depend on the heap order the UPDATE returned.
        applied = [...applied].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        // Canonical events after this one in the same transaction are decided under the consents applied now.
        if (applied.length) s.chunk.forget([e.epid]);
        for (const c of applied) {
          policyEvent(ctx, `consent-applied:${c.id}`, { kind: 'CONSENT_APPLIED', epid: e.epid, subjectId: c.id, reason: 'the patient named by the consent is now known', details: { version: String(c.version) } });
        }
        return;
      }
      case 'PERSONS_MERGED': {
        if (!e.otherEpid) return;
        // Decisions buffered in this transaction are written first (the merge moves them), both patients' state is read again after.
        await s.chunk.flush();
        s.chunk.forget([e.otherEpid, e.epid]);
        await s.identities.mergePatient(e.otherEpid, e.epid);
        await s.grants.mergePatient(e.otherEpid, e.epid);
        await s.decisions.mergePatient(e.otherEpid, e.epid);
        for (const id of await s.consents.mergePatient(e.otherEpid, e.epid)) {
          policyEvent(ctx, `consent-merged:${id}`, { kind: 'CONSENT_APPLIED', epid: e.epid, subjectId: id, reason: 'the consent follows the merged person', details: { mergedFrom: e.otherEpid } });
        }
        return;
      }
      case 'PERSONS_UNMERGED':
        // The record that left the person is re-linked by its own RECORD_LINKED / PERSON_CREATED event.
        if (e.recordKey && e.otherEpid) await s.identities.upsert(e.recordKey, e.otherEpid);
        return;
      default:
        return;
    }
  }
}

function isLink(e: IdentityEvent): boolean {
  return e.type === 'PERSON_CREATED' || e.type === 'RECORD_LINKED';
}

/**
 * clinical.delivery.events → what was actually delivered, for the accounting of disclosures:
 * buffered in the transaction's chunk store, written by `complete` in one statement per chunk.
 */
export class DeliveryEventsHandler {
  constructor(private readonly stores: StoresFactory) {}

  async handle(event: InboundEvent<DeliveryEvent>, ctx: EventContext): Promise<void> {
    const d = event.value;
    if (d.status !== 'DELIVERED') return;
    this.stores(ctx.uow).chunk.recordDelivery({ eventId: d.eventId, sourceEventId: d.sourceEventId, subscriptionId: d.subscriptionId, status: d.status, at: new Date(d.at) });
  }

  /** The consumer's complete step, once per transaction after the handlers. */
  async complete(uow: UnitOfWork): Promise<void> {
    await this.stores(uow).chunk.flush({ atEnd: true });
  }
}
