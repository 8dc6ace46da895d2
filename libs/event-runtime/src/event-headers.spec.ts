import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER, headersToRecord, metadataToHeaders, readMetadata } from './event-headers';

describe('event headers', () => {
  it('round-trips metadata through Kafka headers', () => {
    const meta = { eventId: 'e1', correlationId: 'c1', causationId: 'p1', traceparent: '00-abc-def-01', tier: 'stat' as const, source: 'LAB', receivedAt: 1732200000000, eventType: 'X' };
    const kafkaHeaders = Object.fromEntries(Object.entries(metadataToHeaders(meta)).map(([k, v]) => [k, Buffer.from(v)]));
    assert.deepEqual(readMetadata(headersToRecord(kafkaHeaders)), meta);
  });
  it('ignores an unknown tier and a bad receipt time rather than trusting them', () => {
    const m = readMetadata({ [HEADER.eventId]: 'e', [HEADER.tier]: 'critical', [HEADER.receivedAt]: 'soon' });
    assert.equal(m.tier, undefined);
    assert.equal(m.receivedAt, undefined);
  });
  it('takes the first value of repeated headers', () => {
    assert.deepEqual(headersToRecord({ a: [Buffer.from('1'), Buffer.from('2')], b: undefined }), { a: '1' });
  });
});
