import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HandedRow, StatHandoff } from './stat-handoff';

const row = (id: string): HandedRow => ({ id, topic: 't', key: 'k', value: Buffer.from(id), headers: {} });
const ids = (rows: HandedRow[] | undefined) => rows?.map((r) => r.id);

describe('StatHandoff: when handed-over stat rows stand for a selection', () => {
  it('hands back the rows of every transaction since the last pass, in id order (numeric, not text)', () => {
    const h = new StatHandoff();
    const a = h.ticket();
    const b = h.ticket();
    h.hand(b, [row('10'), row('12')], false);
    h.hand(a, [row('9')], false);
    assert.deepEqual(ids(h.take(500)), ['9', '10', '12']);
    assert.equal(h.take(500), undefined, 'taken: the next pass has nothing handed over and selects');
  });

  it('a stat publish that finished after a ticket was taken voids that hand-over (it may have published those rows)', () => {
    const h = new StatHandoff();
    const ticket = h.ticket();
    h.published();
    h.hand(ticket, [row('5')], false);
    assert.equal(h.take(500), undefined);
    // A ticket taken after that publish is good again.
    h.hand(h.ticket(), [row('6')], false);
    assert.deepEqual(ids(h.take(500)), ['6']);
  });

  it('selects when any transaction saw other stat rows waiting, when rows were committed without being handed over, or at the limit', () => {
    const h = new StatHandoff();
    h.hand(h.ticket(), [row('1')], false);
    h.hand(h.ticket(), [row('2')], true);
    assert.equal(h.take(500), undefined, 'another stat row was waiting: only a select finds it');

    h.hand(h.ticket(), [row('3')], false);
    h.unaccounted();
    assert.equal(h.take(500), undefined, 'an HTTP transaction committed stat rows it did not hand over');

    h.hand(h.ticket(), [row('4'), row('5')], false);
    assert.equal(h.take(2), undefined, 'as many rows as a selection takes: there may be more');
  });

  it('holds a bounded number of hand-overs; beyond it the pass selects', () => {
    const h = new StatHandoff();
    for (let i = 0; i <= StatHandoff.MAX_HELD + 5; i++) h.hand(h.ticket(), [row(String(i))], false);
    assert.equal(h.take(10_000), undefined);
    h.hand(h.ticket(), [row('1')], false);
    h.clear();
    assert.equal(h.take(500), undefined, 'cleared when the stat loop stops publishing');
  });
});
