import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, readFetchRequest, readProducePartitions, readRequestHeader } from './kafka-frames';
import { parseTarget } from './long-poll-front';

/* The frames are built by kafkajs's own protocol encoders: an independent reference for the layouts. */
const frameOf: (args: unknown) => Promise<{ buffer: Buffer }> = require('kafkajs/src/protocol/request');

async function encode(path: string, args: Record<string, unknown>, correlationId = 7, clientId = 'svc-a'): Promise<Buffer> {
  const request = require(`kafkajs/src/protocol/requests/${path}/request`)(args);
  return (await frameOf({ correlationId, clientId, request })).buffer;
}

const fetchArgs = {
  replicaId: -1, maxWaitTime: 480, minBytes: 1, maxBytes: 10485760,
  topics: [
    { topic: 'clinical.stat.identified', partitions: [{ partition: 0, fetchOffset: '12', maxBytes: 1048576 }, { partition: 3, fetchOffset: '0', maxBytes: 1048576 }] },
    { topic: 'clinical.urgent.identified', partitions: [{ partition: 1, fetchOffset: '5', maxBytes: 1048576 }] },
  ],
};

describe('kafka frames', () => {
  for (const version of [4, 5, 7, 9, 11]) {
    it(`reads a kafkajs Fetch v${version}: max wait, its offset and the partitions`, async () => {
      const frame = await encode(`fetch/v${version}`, fetchArgs, 41);
      const header = readRequestHeader(frame);
      assert.deepEqual({ apiKey: header.apiKey, apiVersion: header.apiVersion, correlationId: header.correlationId }, { apiKey: 1, apiVersion: version, correlationId: 41 });
      const view = readFetchRequest(frame, header);
      assert.ok(view);
      assert.equal(view.maxWaitMs, 480);
      assert.deepEqual(view.partitions, ['clinical.stat.identified 0', 'clinical.stat.identified 3', 'clinical.urgent.identified 1']);
      assert.equal(frame.readInt32BE(view.maxWaitOffset), 480);
    });
  }

  it('leaves a Fetch inside an incremental fetch session alone (re-sending it would not be a fresh read)', async () => {
    const frame = await encode('fetch/v11', { ...fetchArgs, sessionId: 9, sessionEpoch: 3 });
    assert.equal(readFetchRequest(frame, readRequestHeader(frame)), undefined);
  });

  it('leaves Fetch versions it does not know alone', async () => {
    const frame = await encode('fetch/v3', fetchArgs);
    assert.equal(readFetchRequest(frame, readRequestHeader(frame)), undefined);
  });

  for (const version of [3, 5, 7]) {
    it(`reads the partitions of a kafkajs Produce v${version}`, async () => {
      const frame = await encode(`produce/v${version}`, {
        acks: -1, timeout: 30000, compression: 0,
        topicData: [
          { topic: 'clinical.stat.normalized', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v1' }] }, { partition: 2, messages: [{ value: 'v2' }, { value: 'v3' }] }] },
          { topic: 'clinical.bulk.normalized', partitions: [{ partition: 1, messages: [{ value: 'x'.repeat(3000) }] }] },
        ],
      });
      assert.deepEqual(readProducePartitions(frame, readRequestHeader(frame)), ['clinical.stat.normalized 0', 'clinical.stat.normalized 2', 'clinical.bulk.normalized 1']);
    });
  }

  it('splits a byte stream into whole frames however it is chunked', async () => {
    const frames = [await encode('fetch/v11', fetchArgs, 1), await encode('fetch/v4', fetchArgs, 2), await encode('fetch/v7', fetchArgs, 3)];
    const stream = Buffer.concat(frames);
    for (const size of [1, 3, 4, 5, 17, stream.length]) {
      const reader = new FrameReader(1 << 20);
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...reader.push(stream.subarray(i, i + size)));
      assert.deepEqual(out.map((f) => readRequestHeader(f).correlationId), [1, 2, 3], `chunks of ${size}`);
      assert.deepEqual(Buffer.concat(out), stream);
    }
  });

  it('refuses a frame larger than its limit', () => {
    const head = Buffer.alloc(4);
    head.writeInt32BE(2048);
    assert.throws(() => new FrameReader(1024).push(head), /2048 bytes is out of range/);
  });

  it("only lets a preamble name one of the cluster's own ports on loopback", () => {
    const ports = new Set([40001]);
    assert.equal(parseTarget('clinmesh-kafka-front 127.0.0.1:40001', ports), 40001);
    assert.equal(parseTarget('clinmesh-kafka-front localhost:40001\r', ports), 40001);
    assert.equal(parseTarget('clinmesh-kafka-front 127.0.0.1:40002', ports), undefined);
    assert.equal(parseTarget('clinmesh-kafka-front 10.0.0.8:40001', ports), undefined);
    assert.equal(parseTarget('clinmesh-kafka-front 169.254.169.254:40001', ports), undefined);
    assert.equal(parseTarget('clinmesh-kafka-front 127.0.0.1.evil.example:40001', ports), undefined);
    assert.equal(parseTarget('CONNECT 127.0.0.1:40001', ports), undefined);
  });
});
