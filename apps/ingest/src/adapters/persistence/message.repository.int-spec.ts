import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { inTransaction } from '@clinmesh/event-runtime';
import { TestDatabase, createTestDatabase, testEnvironment, uniqueName } from '@clinmesh/testing';
import { CONTROL_ID_REUSE, contentHash } from '../../domain/message-content';
import { IngestTables1732200000100 } from './ingest.tables';
import { IngestContentDedupe1764374400000 } from './ingest-content-dedupe.migration';
import { MessageRepository } from './message.repository';

/**
 * Ingest's message store on real PostgreSQL (the embedded platform's), in a
 * throwaway database: the content-dedupe migration re-hashes stored rows
 * exactly as the TypeScript code hashes new ones, and the store's contract
 * (duplicate → nothing written; reuse → flagged) holds in SQL.
 */
describe('ingest message store on PostgreSQL', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const dbName = uniqueName('ingest_store_int').slice(0, 63);
  let db: DataSource;
  let testDb: TestDatabase | undefined;

  const oldRow = async (id: string, controlId: string, raw: Buffer) => {
    // As the first migration's code stored them: SHA-256 of the raw bytes.
    const { createHash } = await import('node:crypto');
    await db.query(
      `INSERT INTO in_message (message_id, sender, control_id, content_hash, format, channel, message_type, tier, triage_rule, received_at, raw, ack)
       VALUES ($1, 'APP^FAC', $2, $3, 'HL7V2', 'MLLP', 'ADT^A01', 'urgent', 'r', now(), $4, 'ACK')`,
      [id, controlId, createHash('sha256').update(raw).digest('hex'), raw],
    );
  };
  const row = (controlId: string, raw: Buffer, messageId: string) => ({
    messageId, sender: 'APP^FAC', controlId, contentHash: contentHash(raw), format: 'HL7V2' as const, channel: 'HTTP' as const,
    messageType: 'ADT^A01', tier: 'urgent', triageRule: 'r', receivedAt: Date.now(), raw, ack: 'ACK',
  });

  // Bytes that exercise the SQL normalisation: CRLF, bare LF, CR, a backslash (HL7's escape character),
  // bytes with the high bit set (ISO 8859-1 Ä and é) and a NUL.
  const tricky = Buffer.concat([
    Buffer.from('MSH|^~\\&|APP|FAC|||20261121||ADT^A01|OLD-1|P|2.3\r\nPID|1||123\nNTE|1||\\.br\\ '),
    Buffer.from([0xc4, 0xe9, 0x00, 0x41]),
    Buffer.from('\r\n\r\nZZZ|1\r'),
  ]);
  const crOnly = Buffer.from('MSH|^~\\&|APP|FAC|||20261121||ADT^A01|OLD-2|P|2.3\rPID|1||456\r');

  before(async () => {
    testDb = await createTestDatabase(env, dbName);
    db = new DataSource({
      type: 'postgres', url: testDb.url, migrations: [IngestTables1732200000100], migrationsTableName: 'cm_migrations',
    });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
    // Rows stored before the content-dedupe migration ...
    await oldRow('m-old-1', 'OLD-1', tricky);
    await oldRow('m-old-2', 'OLD-2', crOnly);
    // ... then the migration.
    await db.destroy();
    db = new DataSource({
      type: 'postgres', url: testDb.url, migrations: [IngestTables1732200000100, IngestContentDedupe1764374400000], migrationsTableName: 'cm_migrations',
    });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
  });
  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  it('re-hashes older rows the way new ones are hashed (line endings normalised, every other byte kept)', async () => {
    const rows = await db.query(`SELECT control_id, content_hash, flags FROM in_message ORDER BY control_id`);
    assert.deepEqual(rows.map((r: { control_id: string; content_hash: string; flags: string[] }) => [r.control_id, r.content_hash, r.flags]), [
      ['OLD-1', contentHash(tricky), []],
      ['OLD-2', contentHash(crOnly), []],
    ]);
  });

  it('a resend of an older message is found as its duplicate and writes nothing; other content under its control id is stored and flagged', async () => {
    const store = new MessageRepository(db);
    const resent = Buffer.from(tricky.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    assert.equal((await store.findDuplicate(null, 'APP^FAC', 'OLD-1', contentHash(resent)))?.messageId, 'm-old-1');
    assert.deepEqual(await inTransaction(db, (uow) => store.insertAccepted(uow, [row('OLD-1', resent, 'm-new-dup')])), [undefined]);
    const changed = Buffer.from(crOnly.toString('latin1').replace('456', '789'), 'latin1');
    assert.deepEqual(await inTransaction(db, (uow) => store.insertAccepted(uow, [row('OLD-2', changed, 'm-new-reuse')])), [{ flags: [CONTROL_ID_REUSE] }]);
    assert.deepEqual(await inTransaction(db, (uow) => store.insertAccepted(uow, [row('NEW-1', crOnly, 'm-new-1')])), [{ flags: [] }]);
    const listed = await store.messagesWithControlId({ controlId: 'OLD-2', limit: 10 });
    assert.deepEqual(listed.map((m) => [m.message_id, m.flags]), [['m-old-2', []], ['m-new-reuse', [CONTROL_ID_REUSE]]]);
    assert.deepEqual((await store.message('m-new-reuse'))?.flags, [CONTROL_ID_REUSE]);
  });

  it('a group in one statement: each row written or not as if alone and in order, bytes kept exactly', async () => {
    const store = new MessageRepository(db);
    const a = Buffer.from('MSH|^~\\&|APP|FAC|||20261202||ADT^A01|GRP-A|P|2.5\rPID|1||A1\r');
    const aOther = Buffer.from('MSH|^~\\&|APP|FAC|||20261202||ADT^A01|GRP-A|P|2.5\rPID|1||A2\r');
    const b = Buffer.concat([Buffer.from('MSH|^~\\&|APP|FAC|||20261202||ADT^A01|GRP-B|P|2.5\r'), Buffer.from([0x00, 0xff, 0x5c, 0x0d])]);
    const results = await inTransaction(db, (uow) => store.insertAccepted(uow, [
      row('GRP-A', a, 'm-grp-a'),
      row('GRP-A', a, 'm-grp-a'), // the same content again in the same group
      row('GRP-A', aOther, 'm-grp-a2'), // the same control id, other content, later in the group
      row('GRP-B', b, 'm-grp-b'),
      row('OLD-1', tricky, 'm-grp-old-resent'), // stored before this group
    ]));
    assert.deepEqual(results, [{ flags: [] }, undefined, { flags: [CONTROL_ID_REUSE] }, { flags: [] }, undefined]);
    const stored = await db.query(`SELECT message_id, raw FROM in_message WHERE control_id IN ('GRP-A', 'GRP-B') ORDER BY message_id`);
    assert.deepEqual(stored.map((r: { message_id: string; raw: Buffer }) => [r.message_id, r.raw.toString('hex')]),
      [['m-grp-a', a.toString('hex')], ['m-grp-a2', aOther.toString('hex')], ['m-grp-b', b.toString('hex')]]);
  });
});
