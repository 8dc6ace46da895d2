import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { EVENT_RUNTIME_MIGRATIONS } from './migrations';
import { ChunkClose, RuntimeRepository } from './runtime.repository';
import { UnitOfWork, inTransaction } from './unit-of-work';

/** A consumer transaction's end with `groups` definitions, `perGroup` events each, two outbox rows per event. */
function close(label: string, groups: number, perGroup: number, offsetBase = 0, groupLabel = label): ChunkClose {
  const out: ChunkClose = { inbox: [], offsets: [], outbox: [] };
  for (let g = 0; g < groups; g++) {
    const group = `svc.${groupLabel}.g${g}`;
    const rows = Array.from({ length: perGroup }, (_, i) => ({ eventId: `${label}-${g}-${i}`, topic: `t.${g % 2}`, partition: i % 3, offset: offsetBase + i }));
    out.inbox.push({ group, rows });
    out.offsets.push({ group, clusterId: 'cluster-a', offsets: [0, 1, 2].map((p) => ({ topic: `t.${g % 2}`, partition: p, next: offsetBase + perGroup + p })) });
    for (const r of rows) {
      for (const n of [1, 2]) out.outbox.push({ eventId: `${r.eventId}-out${n}`, topic: 'out', key: `k${r.partition}`, value: Buffer.from([g, n, r.offset % 256]), headers: { h: `${g}` }, tierRank: g % 4 });
    }
  }
  return out;
}

/** Counts the statements run. */
function counting(uow: UnitOfWork, counter: { n: number }): UnitOfWork {
  return { ...uow, query: (sql, params) => { counter.n++; return uow.query(sql, params); }, execute: (sql, params) => { counter.n++; return uow.execute(sql, params); } };
}

/**
 * RuntimeRepository.closeChunk on PostgreSQL: a consumer transaction's inbox rows, stored offsets and
 * outbox rows in one statement leave exactly what the separate statements leave (the reference), and
 * very large ends still go through (as separate statements).
 */
describe('runtime repository: the end of a consumer transaction in one statement', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, EVENT_RUNTIME_MIGRATIONS);

  const snapshot = async (db: DataSource) => ({
    inbox: await db.query(`SELECT consumer_group, event_id, topic, partition, "offset" FROM cm_inbox ORDER BY 1, 2`),
    offsets: await db.query('SELECT consumer_group, topic, partition, next_offset, cluster_id FROM cm_consumer_offsets ORDER BY 1, 2, 3'),
    // In id order: the relay publishes by id, so the order written is the order published.
    outbox: await db.query('SELECT event_id, topic, message_key, value, headers, tier_rank FROM cm_outbox ORDER BY id'),
  });

  /** The separate statements, as before closeChunk. */
  async function separately(db: DataSource, c: ChunkClose): Promise<void> {
    await inTransaction(db, async (uow) => {
      const tables = new RuntimeRepository(uow);
      for (const i of c.inbox) await tables.insertInbox(i.group, i.rows);
      await tables.insertOutbox(c.outbox);
      for (const o of c.offsets) await tables.storeOffsets(o.group, o.clusterId, o.offsets);
    });
  }

  let reference: DataSource;
  let combined: DataSource;
  before(async () => {
    [reference, combined] = [await databases.create('rt_close_ref'), await databases.create('rt_close_one')];
  });
  after(() => databases.dropAll());

  it('three definitions, then the same partitions again (offsets move on, a redelivered inbox id is left as it is): same rows, one statement each time', async () => {
    const first = close('a', 3, 20);
    // The second transaction: later offsets of the same partitions, and one event already in the inbox (a redelivery).
    const second = close('a2', 3, 20, 20, 'a');
    second.inbox[0].rows.push({ ...first.inbox[0].rows[0], offset: 999 });
    for (const c of [first, second]) {
      await separately(reference, c);
      const counter = { n: 0 };
      await inTransaction(combined, (uow) => new RuntimeRepository(counting(uow, counter)).closeChunk(c));
      assert.equal(counter.n, 1, 'one statement');
    }
    const [ref, one] = [await snapshot(reference), await snapshot(combined)];
    assert.equal(ref.inbox.length, 120);
    assert.equal(ref.outbox.length, 240);
    assert.ok(ref.offsets.every((o: { next_offset: string }) => Number(o.next_offset) >= 40), 'offsets moved on to the second transaction');
    assert.equal(ref.inbox.find((r: { event_id: string }) => r.event_id === 'a-0-0').offset, '0', 'the redelivered id keeps its first offset');
    assert.deepEqual(one, ref);
  });

  it('an end with nothing to publish, and one with only offsets (every event a duplicate)', async () => {
    const quiet = close('b', 1, 5);
    quiet.outbox = [];
    const duplicates: ChunkClose = { inbox: [{ group: 'svc.b.g0', rows: [] }], outbox: [], offsets: [{ group: 'svc.b.g0', clusterId: 'cluster-a', offsets: [{ topic: 't.0', partition: 0, next: 77 }] }] };
    for (const c of [quiet, duplicates]) {
      await separately(reference, c);
      await inTransaction(combined, (uow) => new RuntimeRepository(uow).closeChunk(c));
    }
    assert.deepEqual(await snapshot(combined), await snapshot(reference));
  });

  it('an end too large for one statement (over 30,000 parameters) is written in several, with the same rows', async () => {
    const big = close('c', 2, 2_000);
    await separately(reference, big);
    const counter = { n: 0 };
    await inTransaction(combined, (uow) => new RuntimeRepository(counting(uow, counter)).closeChunk(big));
    assert.ok(counter.n > 1, `${counter.n} statements`);
    assert.deepEqual(await snapshot(combined), await snapshot(reference));
  });
});
