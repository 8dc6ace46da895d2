import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RECORDS_PER_TURN, TurnTaker } from './event-loop-turns';

/** Runs `records` records of in-memory work (awaits that never reach I/O) and says after which record a ready callback ran. */
async function whenReadyCallbackRuns(turns: TurnTaker, records: number): Promise<number | 'after'> {
  let done = 0;
  let ranAfter: number | 'after' = 'after';
  setImmediate(() => { ranAfter = done < records ? done : 'after'; });
  for (let i = 0; i < records; i++) {
    await Promise.resolve();
    done++;
    await turns.afterRecord();
  }
  return ranAfter;
}

describe('event-loop turns of lower-tier work', () => {
  it('without a turn, a ready callback (a stat statement\'s reply) waits for the whole stretch', async () => {
    assert.equal(await whenReadyCallbackRuns(TurnTaker.never, 64), 'after');
    assert.equal(await whenReadyCallbackRuns(new TurnTaker(() => false), 64), 'after', 'no higher tier active: no turns');
  });

  it('while a higher tier is active, it runs within the first RECORDS_PER_TURN records', async () => {
    assert.equal(await whenReadyCallbackRuns(new TurnTaker(() => true), 64), RECORDS_PER_TURN);
  });

  it('asks whether a higher tier is active once per turn, not per record, and counts the turns taken', async () => {
    let asked = 0;
    let taken = 0;
    const turns = new TurnTaker(() => ++asked > 1, 4, () => taken++);
    for (let i = 0; i < 12; i++) await turns.afterRecord();
    assert.equal(asked, 3);
    assert.equal(taken, 2, 'the first check said no higher tier was active');
  });
});
