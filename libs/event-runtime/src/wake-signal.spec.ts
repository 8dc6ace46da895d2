import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WakeSignal } from './wake-signal';

/** The relay loops' and workers' sleep: a commit's wake-up is never lost, and an idle loop does not spin. */
describe('WakeSignal', () => {
  const LONG = 600_000;

  it('returns at once from a sleep when notified while the loop was working (the pass may have missed the new rows)', async () => {
    const signal = new WakeSignal();
    signal.take();
    signal.notify(); // a transaction commits during the pass
    await signal.sleep(LONG); // would hang the test (and fail it by timeout) if the wake-up were lost
  });

  it('a notify during the sleep ends it; take() answers earlier notifications, so the next sleep waits', async () => {
    const signal = new WakeSignal();
    const sleeping = signal.sleep(LONG);
    signal.notify();
    await sleeping;
    signal.take();
    let woke = false;
    const next = signal.sleep(LONG).then(() => { woke = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(woke, false, 'nothing new since take(): the loop sleeps');
    signal.notify();
    await next;
    assert.equal(woke, true);
  });

  it('a backoff sleep (evenIfNotified) is not skipped by an earlier notify, but a notify during it still ends it', async () => {
    const signal = new WakeSignal();
    signal.notify();
    let woke = false;
    const backoff = signal.sleep(LONG, { evenIfNotified: true }).then(() => { woke = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(woke, false);
    signal.notify(); // stop() wakes every sleep
    await backoff;
    assert.equal(woke, true);
  });
});
