import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childTraceparent, deriveEventId, newEventId } from './event-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('derives the same id for the same input and purpose (retries and replays dedupe downstream)', () => {
    assert.equal(deriveEventId('in-1', 'canonical'), deriveEventId('in-1', 'canonical'));
    assert.notEqual(deriveEventId('in-1', 'canonical'), deriveEventId('in-1', 'routed'));
    assert.notEqual(deriveEventId('in-1', 'canonical'), deriveEventId('in-2', 'canonical'));
    assert.match(deriveEventId('x', 'y'), UUID);
    assert.equal(deriveEventId('x', 'y')[14], '5');
  });
  it('does not confuse input/purpose boundaries', () => {
    assert.notEqual(deriveEventId('ab', 'c'), deriveEventId('a', 'bc'));
  });
  it('makes random v4 ids', () => {
    const a = newEventId();
    assert.match(a, UUID);
    assert.equal(a[14], '4');
    assert.notEqual(a, newEventId());
  });
  it('keeps the trace id and starts a new span per hop', () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const child = childTraceparent(parent, 'event-2');
    assert.match(child, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    assert.notEqual(child.split('-')[2], 'b7ad6b7169203331');
    assert.match(childTraceparent(undefined, 'seed'), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.match(childTraceparent('garbage', 'seed'), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
