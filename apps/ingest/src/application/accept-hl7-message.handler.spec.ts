import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventContext, EventOrigin, UnitOfWork, deriveEventId, eventContext } from '@clinmesh/event-runtime';
import { adtMessage } from '@clinmesh/testing';
import triageRulesData from '../domain/triage/triage-rules.data.json';
import { TriageRules, validateTriageRules } from '../domain/triage/triage.policy';
import { CONTROL_ID_REUSE } from '../domain/message-content';
import { AcceptHl7MessageHandler } from './accept-hl7-message.handler';
import { AcceptedMessageRow, EventPublisherPort, IntakeMetricsPort, MessageStorePort, StoredMessageRef } from './intake.ports';
import { AcceptedMessageWriter } from './accepted-message.writer';

/** The store's contract in memory: unique (sender, control id, content hash); the reuse flag when the pair has other content. */
class InMemoryMessageStore implements MessageStorePort {
  readonly rows: Array<StoredMessageRef & { sender: string; controlId: string }> = [];
  async findDuplicate(_uow: UnitOfWork | null, sender: string, controlId: string, contentHash: string) {
    return this.rows.find((r) => r.sender === sender && r.controlId === controlId && r.contentHash === contentHash);
  }
  async insertAccepted(_uow: UnitOfWork, rows: ReadonlyArray<AcceptedMessageRow>) {
    const results: Array<{ flags: string[] } | undefined> = [];
    for (const row of rows) {
      if (await this.findDuplicate(null, row.sender, row.controlId, row.contentHash)) {
        results.push(undefined);
        continue;
      }
      const reuse = this.rows.some((r) => r.sender === row.sender && r.controlId === row.controlId);
      const flags = reuse ? [CONTROL_ID_REUSE] : [];
      this.rows.push({ messageId: row.messageId, contentHash: row.contentHash, ack: row.ack, tier: row.tier, flags, sender: row.sender, controlId: row.controlId });
      results.push({ flags });
    }
    return results;
  }
  async insertRejection(): Promise<void> {
    throw new Error('nothing in these tests is refused');
  }
}

/** The runtime's real event contexts over a unit of work that is never used here: emitted events land in `emitted`, one entry per transaction in `transactions`. */
function publisher(): EventPublisherPort & { emitted: Array<{ eventId: string; correlationId: string; topic: string }>; transactions: number[] } {
  const emitted: Array<{ eventId: string; correlationId: string; topic: string }> = [];
  const transactions: number[] = [];
  const uow = { query: async () => [], execute: async () => 0 } as unknown as UnitOfWork;
  return {
    emitted,
    transactions,
    async inTransactionEach<T>(origins: readonly EventOrigin[], work: (contexts: EventContext[]) => Promise<T>): Promise<T> {
      const sink: Parameters<typeof eventContext>[2] = [];
      const result = await work(origins.map((origin) => eventContext(uow, origin, sink)));
      transactions.push(origins.length);
      for (const e of sink) emitted.push({ eventId: e.meta.eventId, correlationId: e.meta.correlationId, topic: e.topic });
      return result;
    },
  };
}

function metrics(): IntakeMetricsPort & { outcomes: string[]; reuses: number } {
  const m = {
    outcomes: [] as string[], reuses: 0,
    outcome: (l: { outcome: string; reason?: string }) => { m.outcomes.push(l.reason ? `${l.outcome}:${l.reason}` : l.outcome); },
    controlIdReuse: () => { m.reuses++; },
  };
  return m;
}

const rules: TriageRules = validateTriageRules(triageRulesData as TriageRules);
function handler(store = new InMemoryMessageStore()) {
  const events = publisher();
  const counts = metrics();
  const h = new AcceptHl7MessageHandler(store, new AcceptedMessageWriter(store, events), counts, rules, {
    maxMessageBytes: 1 << 20, supportedMessageTypes: new Set(['ADT', 'ORU']), receivingApplication: 'CLINMESH', receivingFacility: 'CLINMESH',
    patientKeySecret: 'a-test-secret-of-16+',
  });
  return { h, store, events, counts };
}

const arrival = (text: string, channel: 'MLLP' | 'HTTP' = 'MLLP') => ({ bytes: Buffer.from(text), channel, receivedAt: 1_764_000_000_000 });

describe('AcceptHl7MessageHandler: duplicates and reused control ids', () => {
  const original = adtMessage({ controlId: 'MSG00001', mrn: 'MRN-1', family: 'FIRST' });

  it('the same content again is a duplicate: the original ACK, nothing emitted, counted as duplicate', async () => {
    const { h, events, counts } = handler();
    const first = await h.accept(arrival(original));
    assert.equal(first.status, 'accepted');
    assert.equal(events.emitted.length, 1);
    for (const again of [original, original.replace(/\r/g, '\r\n')]) {
      const r = await h.accept(arrival(again, 'HTTP'));
      assert.equal(r.status, 'duplicate');
      assert.equal(r.ackCode, 'AA');
      assert.equal(r.ack, first.ack, 'byte for byte');
      assert.equal(r.messageId, first.messageId);
    }
    assert.equal(events.emitted.length, 1, 'nothing emitted for the duplicates');
    assert.deepEqual(counts.outcomes, ['accepted', 'duplicate', 'duplicate']);
  });

  it('other content under the used control id is a new message: accepted, flagged, counted, emitted with its own ids', async () => {
    const { h, events, counts } = handler();
    const first = await h.accept(arrival(original));
    const reused = await h.accept(arrival(adtMessage({ controlId: 'MSG00001', mrn: 'MRN-1', family: 'SECOND' })));
    assert.equal(reused.status, 'accepted');
    assert.equal(reused.ackCode, 'AA');
    assert.deepEqual(reused.flags, [CONTROL_ID_REUSE]);
    assert.deepEqual(first.flags, []);
    assert.notEqual(reused.messageId, first.messageId);
    assert.equal(counts.reuses, 1);
    assert.ok(!counts.outcomes.some((o) => o.startsWith('rejected')), 'never refused');
    assert.equal(events.emitted.length, 2);
    assert.deepEqual(events.emitted.map((e) => e.correlationId), [first.messageId, reused.messageId]);
    assert.deepEqual(events.emitted.map((e) => e.eventId), [deriveEventId(first.messageId, 'ingested'), deriveEventId(reused.messageId, 'ingested')]);
    assert.notEqual(events.emitted[0].eventId, events.emitted[1].eventId);
  });

  it('ids are deterministic: the identical message gets the same message and event ids in another process (empty store)', async () => {
    const a = handler();
    const b = handler();
    const ra = await a.h.accept(arrival(original));
    const rb = await b.h.accept(arrival(original, 'HTTP'));
    assert.equal(ra.messageId, rb.messageId);
    assert.equal(a.events.emitted[0].eventId, b.events.emitted[0].eventId);
    const other = await b.h.accept(arrival(adtMessage({ controlId: 'MSG00001', mrn: 'MRN-1', family: 'FIRST', sendingApplication: 'OTHEREHR' })));
    assert.equal(other.status, 'accepted', 'another sender with the same control id is simply another message');
    assert.deepEqual(other.flags, []);
    assert.notEqual(other.messageId, ra.messageId);
  });
});

describe('AcceptHl7MessageHandler: messages arriving together are committed together', () => {
  const messages = Array.from({ length: 6 }, (_, i) => adtMessage({ controlId: `GRP-${i}`, mrn: `MRN-${i}`, family: `FAMILY${i}` }));

  it('arrivals while a commit is due share one transaction; each gets its own ACK, ids and event', async () => {
    const { h, events, counts } = handler();
    const results = await Promise.all(messages.map((m) => h.accept(arrival(m))));
    assert.deepEqual(results.map((r) => r.status), messages.map(() => 'accepted'));
    assert.deepEqual(events.transactions, [messages.length], 'one transaction for the six');
    assert.deepEqual(events.emitted.map((e) => e.correlationId), results.map((r) => r.messageId), 'events in arrival order, each with its message as origin');
    assert.equal(new Set(results.map((r) => r.ack)).size, messages.length);
    assert.deepEqual(counts.outcomes, messages.map(() => 'accepted'));
    // Alone, a message commits at once: its own transaction.
    await h.accept(arrival(adtMessage({ controlId: 'GRP-LATE', mrn: 'MRN-9', family: 'LATE' })));
    assert.deepEqual(events.transactions, [messages.length, 1]);
  });

  it('inside one group, the same content twice is one message and a duplicate; other content under the same control id is flagged', async () => {
    const { h, events, counts } = handler();
    const reused = adtMessage({ controlId: 'GRP-0', mrn: 'MRN-0', family: 'CHANGED' });
    const [first, again, other] = await Promise.all([messages[0], messages[0], reused].map((m) => h.accept(arrival(m))));
    assert.deepEqual(events.transactions, [3]);
    assert.equal(first.status, 'accepted');
    assert.deepEqual(first.flags, []);
    assert.equal(again.status, 'duplicate');
    assert.equal(again.messageId, first.messageId);
    assert.equal(again.ack, first.ack);
    assert.equal(other.status, 'accepted');
    assert.deepEqual(other.flags, [CONTROL_ID_REUSE]);
    assert.deepEqual(events.emitted.map((e) => e.correlationId), [first.messageId, other.messageId]);
    assert.deepEqual([...counts.outcomes].sort(), ['accepted', 'accepted', 'duplicate']);
    assert.equal(counts.reuses, 1);
  });
});
