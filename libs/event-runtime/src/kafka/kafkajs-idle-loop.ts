/**
 * kafkajs 2.2.4 (the last release) spins an endless 1 ms timer on every broker
 * connection that has ever had a response: `checkPendingRequests` always calls
 * `scheduleCheckPendingRequests`, which, with nothing pending and no throttle,
 * schedules itself again with a negative delay (tulios/kafkajs#1556, #1704;
 * fixes #1667 and #1768 are open upstream, the project is unmaintained). With
 * nothing pending the check has nothing to do: a request pushed later while
 * throttled or over the in-flight limit is queued and schedules its own check
 * (`push`), and a fulfilled request checks the queue itself (`fulfillRequest`).
 * So the guard below skips scheduling when the queue is empty — the upstream
 * fix. Applied once, to the exact version it was written against.
 */
const GUARDED = Symbol.for('clinmesh.kafkajs.idleLoopGuard');

interface RequestQueueLike {
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
}

export function guardKafkajsIdleLoop(): boolean {
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (version !== '2.2.4') return false;
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueLike & { [GUARDED]?: true } };
  const proto = RequestQueue.prototype;
  if (proto[GUARDED]) return true;
  const schedule = proto.scheduleCheckPendingRequests;
  if (typeof schedule !== 'function') return false;
  proto.scheduleCheckPendingRequests = function guarded(this: RequestQueueLike): void {
    if (!this.pending || this.pending.length === 0) return;
    schedule.call(this);
  };
  proto[GUARDED] = true;
  return true;
}
