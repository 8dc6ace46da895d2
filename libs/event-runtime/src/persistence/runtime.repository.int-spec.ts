import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { EVENT_RUNTIME_MIGRATIONS } from './migrations';
import { HEADER } from '../event-headers';
import { ChunkClose, RuntimeRepository, isInboxConflict, poolQueries } from './runtime.repository';
import { UnitOfWork, inTransaction, takeDeferredWrites } from './unit-of-work';

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

/** Counts the statements run, and keeps their texts and whether each was asked to run prepared. */
function counting(uow: UnitOfWork, counter: { n: number; texts?: Array<{ sql: string; prepared: boolean }> }): UnitOfWork {
  const seen = (sql: string, options?: { prepared?: boolean }) => { counter.n++; counter.texts?.push({ sql, prepared: !!options?.prepared }); };
  return {
    ...uow,
    query: (sql, params, options) => { seen(sql, options); return uow.query(sql, params, options); },
    execute: (sql, params, options) => { seen(sql, options); return uow.execute(sql, params, options); },
  };
}

/**
 * RuntimeRepository.closeChunk on PostgreSQL: a consumer transaction's inbox rows, stored offsets and
 * outbox rows in one statement leave exactly what plain row-by-row statements leave (the reference),
 * whatever the size, in one prepared statement whose text does not depend on the number of rows.
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

  /** The reference: one plain statement per row, in order (nothing shared with closeChunk's SQL). */
  async function separately(db: DataSource, c: ChunkClose): Promise<void> {
    await inTransaction(db, async (uow) => {
      for (const i of c.inbox) {
        for (const r of i.rows) {
          await uow.execute('INSERT INTO cm_inbox (consumer_group, event_id, topic, partition, "offset") VALUES ($1, $2, $3, $4, $5)', [i.group, r.eventId, r.topic, r.partition, r.offset]);
        }
      }
      for (const r of c.outbox) {
        await uow.execute('INSERT INTO cm_outbox (event_id, topic, message_key, value, headers, tier_rank) VALUES ($1, $2, $3, $4, $5::jsonb, $6)', [r.eventId, r.topic, r.key, r.value, JSON.stringify(r.headers), r.tierRank]);
      }
      for (const o of c.offsets) {
        for (const p of o.offsets) {
          await uow.execute(
            `INSERT INTO cm_consumer_offsets (consumer_group, topic, partition, next_offset, cluster_id) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, cluster_id = EXCLUDED.cluster_id`,
            [o.group, p.topic, p.partition, p.next, o.clusterId],
          );
        }
      }
    });
  }

  let reference: DataSource;
  let combined: DataSource;
  before(async () => {
    [reference, combined] = [await databases.create('rt_close_ref'), await databases.create('rt_close_one')];
  });
  after(() => databases.dropAll());

  it('three definitions, then the same partitions again (offsets move on): same rows, one statement each time', async () => {
    const first = close('a', 3, 20);
    // The second transaction: later offsets of the same partitions.
    const second = close('a2', 3, 20, 20, 'a');
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
    assert.deepEqual(one, ref);
  });

  it('an end holding an event id its group already has fails as an inbox conflict and leaves nothing; other unique violations are not one', async () => {
    const db = await databases.create('rt_close_dup');
    const first = close('d', 2, 5);
    await inTransaction(db, (uow) => new RuntimeRepository(uow).closeChunk(first));
    const before = await snapshot(db);
    // Later offsets, and one event the second group handled already (a redelivery the consumer did not check for).
    const redelivered = close('d2', 2, 5, 5, 'd');
    redelivered.inbox[1].rows.push({ ...first.inbox[1].rows[3], offset: 999 });
    await assert.rejects(inTransaction(db, (uow) => new RuntimeRepository(uow).closeChunk(redelivered)), (error) => isInboxConflict(error));
    assert.deepEqual(await snapshot(db), before, 'no inbox row, offset or outbox row of the failed end');
    // The same id in another group is another consumer's first sight of it.
    const otherGroup = close('d3', 1, 1, 0, 'other');
    otherGroup.inbox[0].rows[0].eventId = first.inbox[1].rows[3].eventId;
    await inTransaction(db, (uow) => new RuntimeRepository(uow).closeChunk(otherGroup));
    await db.query('CREATE TABLE IF NOT EXISTS it_unique (id int PRIMARY KEY)');
    await db.query('INSERT INTO it_unique VALUES (1) ON CONFLICT DO NOTHING');
    await assert.rejects(db.query('INSERT INTO it_unique VALUES (1)'), (error) => (error as { code?: string }).code === '23505' && !isInboxConflict(error));
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

  it('a large end (4,000 events, 8,000 outbox rows) is one prepared statement with the text of a one-event end, and the same rows', async () => {
    const big = close('c', 2, 2_000);
    big.outbox[17].key = null;
    big.outbox[18].value = Buffer.from('\\x00"{},\n', 'utf8');
    // The values travel as one binary parameter cut by offsets: an empty one and every byte value among them.
    big.outbox[19].value = Buffer.alloc(0);
    big.outbox[20].value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await separately(reference, big);
    const texts = (c: ChunkClose) => inTransaction(combined, async (uow) => {
      const counter = { n: 0, texts: [] as Array<{ sql: string; prepared: boolean }> };
      await new RuntimeRepository(counting(uow, counter)).closeChunk(c);
      return counter.texts;
    });
    const [large, small] = [await texts(big), await texts(close('d', 2, 1, 5_000))];
    await separately(reference, close('d', 2, 1, 5_000));
    assert.equal(large.length, 1, 'one statement');
    assert.ok(large[0].prepared, 'run prepared');
    assert.equal(large[0].sql, small[0].sql, 'the same text for 4,000 events as for two: planned once per connection');
    assert.deepEqual(await snapshot(combined), await snapshot(reference));
  });
});

/**
 * Deferred writes (`uow.deferWrite`): a handler's writes that need no answer ride on the consumer's
 * closing statement, with their placeholders renumbered; any other transaction runs them just before
 * commit; a failing one fails the transaction.
 */
describe('runtime repository: deferred writes', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, EVENT_RUNTIME_MIGRATIONS);
  let db: DataSource;
  before(async () => {
    db = await databases.create('rt_deferred');
    await db.query('CREATE TABLE it_item (id int PRIMARY KEY, v text NOT NULL)');
    await db.query('CREATE TABLE it_note (k text PRIMARY KEY, n int NOT NULL)');
  });
  after(() => databases.dropAll());

  const items = (uow: UnitOfWork, ids: number[], tag: string) =>
    uow.deferWrite('INSERT INTO it_item (id, v) SELECT i, $2 || i FROM unnest($1::int[]) AS i', [ids, tag]);
  const note = (uow: UnitOfWork, k: string, n: number) => uow.deferWrite('INSERT INTO it_note (k, n) VALUES ($1, $2)', [k, n]);

  it('go in the closing statement (one statement with inbox, outbox and offsets), unseen by the transaction before it', async () => {
    const counter = { n: 0 };
    const c = close('d', 1, 3);
    const seenBefore = await inTransaction(db, async (uow) => {
      items(uow, [1, 2, 3], 'a');
      note(uow, 'first', 7);
      items(uow, [4], 'b');
      const [{ n }] = await uow.query<{ n: number }>('SELECT count(*)::int AS n FROM it_item');
      await new RuntimeRepository(counting(uow, counter)).closeChunk({ ...c, deferred: takeDeferredWrites(uow) });
      return n;
    });
    assert.equal(seenBefore, 0, 'nothing deferred is written before the close');
    assert.equal(counter.n, 1, 'the deferred writes and the inbox, outbox and offsets: one statement');
    assert.deepEqual(await db.query('SELECT id, v FROM it_item ORDER BY id'), [{ id: 1, v: 'a1' }, { id: 2, v: 'a2' }, { id: 3, v: 'a3' }, { id: 4, v: 'b4' }]);
    assert.deepEqual(await db.query('SELECT k, n FROM it_note'), [{ k: 'first', n: 7 }]);
    const [{ inbox }] = await db.query(`SELECT count(*)::int AS inbox FROM cm_inbox WHERE event_id LIKE 'd-%'`);
    assert.equal(inbox, 3);
  });

  it('left to a transaction without a closing statement, they run before its commit', async () => {
    await inTransaction(db, async (uow) => {
      items(uow, [10, 11], 'c');
      note(uow, 'second', 8);
    });
    assert.deepEqual(await db.query('SELECT id, v FROM it_item WHERE id >= 10 ORDER BY id'), [{ id: 10, v: 'c10' }, { id: 11, v: 'c11' }]);
    assert.deepEqual(await db.query(`SELECT n FROM it_note WHERE k = 'second'`), [{ n: 8 }]);
  });

  it('a failing one fails the whole transaction: no inbox row, no other deferred row', async () => {
    const c = close('e', 1, 2);
    await assert.rejects(inTransaction(db, async (uow) => {
      note(uow, 'third', 9);
      items(uow, [1], 'dup'); // id 1 exists: a unique violation
      await new RuntimeRepository(uow).closeChunk({ ...c, deferred: takeDeferredWrites(uow) });
    }), /duplicate key/);
    assert.deepEqual(await db.query(`SELECT k FROM it_note WHERE k = 'third'`), []);
    const [{ inbox }] = await db.query(`SELECT count(*)::int AS inbox FROM cm_inbox WHERE event_id LIKE 'e-%'`);
    assert.equal(inbox, 0);
  });

  it('refuses a statement with a $ that is not a placeholder (it would be renumbered)', async () => {
    await assert.rejects(inTransaction(db, async (uow) => uow.deferWrite(`INSERT INTO it_note (k, n) VALUES ($q$x$q$, $1)`, [1])), /placeholders/);
  });
});

/**
 * closeChunk with `returnStat`: the closing statement also returns the ids of the stat rows it wrote
 * (for the relay to publish them without selecting them back) and whether other stat rows were
 * waiting — the same rows as without it.
 */
describe('runtime repository: stat rows returned by the closing statement', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, EVENT_RUNTIME_MIGRATIONS);
  let db: DataSource;
  before(async () => {
    db = await databases.create('rt_stat_return');
  });
  after(() => databases.dropAll());

  const outboxIds = async (tierRank: number) =>
    (await db.query(`SELECT id::text AS id, event_id FROM cm_outbox WHERE tier_rank = $1 ORDER BY cm_outbox.id`, [tierRank])) as Array<{ id: string; event_id: string }>;

  it('returns each stat row written with its id, one statement, and says no other stat row was waiting', async () => {
    // Groups 0 and 4 write tier 0 (stat); the others urgent, routine and bulk rows.
    const c = close('s', 5, 3);
    const counter = { n: 0 };
    const written = await inTransaction(db, (uow) => new RuntimeRepository(counting(uow, counter)).closeChunk({ ...c, returnStat: true }));
    assert.equal(counter.n, 1);
    assert.ok(written);
    assert.equal(written.othersWaiting, false);
    const stored = await outboxIds(0);
    assert.equal(stored.length, 12);
    assert.deepEqual(
      [...written.rows].sort((a, b) => Number(a.id) - Number(b.id)).map((r) => ({ id: r.id, event_id: r.row.eventId })),
      stored,
      'every stat row, by the id it got, paired with the row that was written',
    );
    assert.ok(written.rows.every(({ row }) => row.tierRank === 0 && c.outbox.includes(row)));
    assert.equal((await db.query('SELECT count(*)::int AS n FROM cm_outbox'))[0].n, c.outbox.length, 'the same rows as without returnStat');
    assert.equal((await db.query('SELECT count(*)::int AS n FROM cm_inbox'))[0].n, 15);
  });

  it('says so when other stat rows were waiting (committed earlier, not yet published), and returns nothing without stat rows', async () => {
    const written = await inTransaction(db, (uow) => new RuntimeRepository(uow).closeChunk({ ...close('t', 1, 2), returnStat: true }));
    assert.equal(written?.othersWaiting, true, 'the first test left stat rows in the outbox');
    assert.equal(written?.rows.length, 4);

    await db.query('DELETE FROM cm_outbox WHERE tier_rank = 0');
    const alone = await inTransaction(db, (uow) => new RuntimeRepository(uow).closeChunk({ ...close('u', 1, 1), returnStat: true }));
    assert.equal(alone?.othersWaiting, false, 'its own rows are not others');

    const noStat = close('v', 2, 1);
    noStat.outbox = noStat.outbox.filter((r) => r.tierRank !== 0);
    assert.equal(await inTransaction(db, (uow) => new RuntimeRepository(uow).closeChunk({ ...noStat, returnStat: true })), undefined);
  });
});

/**
 * The lineage reads (GET /v1/lineage): rows are put in place with plain SQL, as the relay, the consumer and
 * the dead-lettering leave them, and read back through the repository.
 */
describe('runtime repository: what the runtime recorded for one message (lineage)', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, EVENT_RUNTIME_MIGRATIONS);
  let db: DataSource;
  let tables: RuntimeRepository;
  const headers = (eventId: string, correlationId: string, causationId?: string) =>
    JSON.stringify({ [HEADER.eventId]: eventId, [HEADER.correlationId]: correlationId, ...(causationId ? { [HEADER.causationId]: causationId } : {}) });

  before(async () => {
    db = await databases.create('rt_lineage');
    tables = new RuntimeRepository(poolQueries(db));
    // Message c-1: consumed as in-1 at 10:00; it caused out-a (published at 10:02, retained) and out-b (still waiting).
    await db.query(`INSERT INTO cm_inbox (consumer_group, event_id, topic, partition, "offset", processed_at) VALUES
      ('svc.routine', 'in-1', 'in.routine', 0, 7, '2026-01-01T10:00:00Z'), ('svc.routine', 'in-2', 'in.routine', 0, 8, '2026-01-01T11:00:00Z')`);
    await db.query(`INSERT INTO cm_outbox_published (id, event_id, topic, message_key, value, headers, tier_rank, created_at, published_at, cluster_id)
      VALUES (1, 'out-a', 'out.routine', 'k', '\\x01', $1::jsonb, 2, '2026-01-01T10:01:00Z', '2026-01-01T10:02:00Z', 'cluster-a')`, [headers('out-a', 'c-1', 'in-1')]);
    await db.query(`INSERT INTO cm_outbox (event_id, topic, message_key, value, headers, tier_rank, created_at) VALUES
      ('out-b', 'out.routine', 'k', '\\x02', $1::jsonb, 2, '2026-01-01T10:03:00Z'), ('out-z', 'out.routine', 'k', '\\x03', $2::jsonb, 2, '2026-01-01T10:04:00Z')`,
    [headers('out-b', 'c-1', 'in-1'), headers('out-z', 'c-2', 'in-2')]);
    await tables.writeDeadLetter({ id: 'dl-1', consumerGroup: 'svc.routine', tier: 'routine', topic: 'in.routine', partition: 0, offset: 9, key: null, value: Buffer.from([9]), headers: JSON.parse(headers('in-3', 'c-1')), errorCode: 'X.BAD', errorMessage: 'bad', attempts: 1 });
  });
  after(() => databases.dropAll());

  it('lists the events emitted for a correlation id, published (retained) and waiting, oldest first, with when their cause was consumed', async () => {
    const rows = await tables.emittedOfCorrelation('c-1', 10);
    assert.deepEqual(rows.map((r) => [r.eventId, r.publishedAt?.toISOString() ?? null, r.causeConsumedAt?.toISOString() ?? null, r.value.toString('hex')]), [
      ['out-a', '2026-01-01T10:02:00.000Z', '2026-01-01T10:00:00.000Z', '01'],
      ['out-b', null, '2026-01-01T10:00:00.000Z', '02'],
    ]);
    assert.equal((await tables.emittedOfCorrelation('c-1', 1)).length, 1, 'bounded by the limit');
    assert.deepEqual(await tables.emittedOfCorrelation('c-9', 10), []);
  });

  it('finds an event\'s correlation id whether it waits, was published or was dead-lettered, and null otherwise', async () => {
    assert.equal(await tables.correlationOfEvent('out-a'), 'c-1');
    assert.equal(await tables.correlationOfEvent('out-z'), 'c-2');
    assert.equal(await tables.correlationOfEvent('in-3'), 'c-1');
    assert.equal(await tables.correlationOfEvent('in-1'), null, 'consumed only: not emitted here');
  });

  it('lists a correlation\'s dead letters and the inbox entries of given events', async () => {
    assert.deepEqual((await tables.deadLettersOfCorrelation('c-1', 10)).map((d) => [d.id, d.errorCode, d.status]), [['dl-1', 'X.BAD', 'dead']]);
    assert.deepEqual(await tables.deadLettersOfCorrelation('c-2', 10), []);
    assert.deepEqual((await tables.inboxEntries(['in-2', 'in-1', 'nope'])).map((e) => [e.eventId, e.consumerGroup, e.processedAt.toISOString()]), [
      ['in-1', 'svc.routine', '2026-01-01T10:00:00.000Z'], ['in-2', 'svc.routine', '2026-01-01T11:00:00.000Z'],
    ]);
    assert.deepEqual(await tables.inboxEntries([]), []);
  });
});
