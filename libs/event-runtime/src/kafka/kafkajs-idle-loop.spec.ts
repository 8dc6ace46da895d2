import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { guardKafkajsIdleLoop } from './kafkajs-idle-loop';

// The real kafkajs RequestQueue (the class every broker connection uses), no broker needed.
const RequestQueue = require('kafkajs/src/network/requestQueue');
const quietLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const queue = () => new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, enforceRequestTimeout: false, clientId: 't', broker: 'b:1', logger: quietLogger });

describe('kafkajs idle-loop guard', () => {
  it('schedules no check with nothing pending, and still schedules one for a queued request', () => {
    assert.equal(guardKafkajsIdleLoop(), true);
    assert.equal(guardKafkajsIdleLoop(), true, 'applied once, idempotent');
    const idle = queue();
    idle.checkPendingRequests(); // what every fulfilled response calls
    assert.equal(idle.throttleCheckTimeoutId, null, 'an idle connection arms no timer (unguarded: a 1 ms timer re-arming forever)');

    const throttled = queue();
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.pending.push({ correlationId: 1 });
    throttled.scheduleCheckPendingRequests();
    assert.notEqual(throttled.throttleCheckTimeoutId, null, 'a request held by a throttle is checked again later');
    clearTimeout(throttled.throttleCheckTimeoutId);
  });
});
