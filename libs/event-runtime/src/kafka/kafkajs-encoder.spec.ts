import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { patchKafkajsEncoder } from './kafkajs-encoder';

// kafkajs' own produce and fetch request encoders (what every producer and consumer sends), no broker needed.
const ProduceRequest = require('kafkajs/src/protocol/requests/produce/v3/request');
const FetchRequest = require('kafkajs/src/protocol/requests/fetch/v11/request');
const Encoder = require('kafkajs/src/protocol/encoder');
const Decoder = require('kafkajs/src/protocol/decoder');

/** Records of every shape the runtime sends: null and unicode keys, no headers or a dozen, values from empty to past every growth step. */
function topicData(): unknown[] {
  const headers = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`clinmesh-h${i}`, `välue-${'x'.repeat(i * 37)}`]));
  const sizes = [0, 1, 63, 64, 65, 511, 512, 513, 4_095, 4_097, 70_000, 300_000];
  return [
    { topic: 'clinical.routed.stat.a', partitions: [{ partition: 3, firstSequence: 0, messages: sizes.map((n, i) => ({ key: i % 3 === 0 ? null : `kéy-${i}`, value: randomBytes(n), headers: i % 2 ? headers : {}, timestamp: 1_764_000_000_000 + i * 1_000_003 })) }] },
    { topic: 'clinical.tasks.bulk', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'k', value: 'a string value', timestamp: 1_764_000_000_000 }] }] },
  ];
}

const produce = async (data: unknown[]) => (await ProduceRequest({ acks: -1, timeout: 30_000, topicData: data }).encode()).buffer as Buffer;
const fetch = async () => (await FetchRequest({ replicaId: -1, maxWaitTime: 100, minBytes: 1, maxBytes: 10_485_760, topics: [{ topic: 'clinical.identified.stat', partitions: [{ partition: 7, fetchOffset: '123456789012', maxBytes: 1_048_576 }] }], rackId: '' }).encode()).buffer as Buffer;

describe('kafkajs encoder patch', () => {
  it('encodes produce and fetch requests and varints byte for byte as the stock encoder, applied once', async () => {
    const data = topicData();
    // Varints on every boundary of their byte count, and negative ones (zigzag).
    const varints = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 2_147_483_647, -1, -64, -65, -2_147_483_648];
    const varintBytes = () => varints.map((v) => new Encoder().writeVarInt(v).writeUVarInt(Math.abs(v)).buffer as Buffer);
    const stock = { produce: await produce(data), fetch: await fetch(), varints: varintBytes() };
    assert.equal(patchKafkajsEncoder(), true);
    assert.equal(patchKafkajsEncoder(), true, 'idempotent');
    assert.ok(stock.produce.length > 380_000);
    assert.ok((await produce(data)).equals(stock.produce), 'produce request identical');
    assert.ok((await fetch()).equals(stock.fetch), 'fetch request identical');
    const patched = varintBytes();
    varints.forEach((v, i) => {
      assert.ok(patched[i].equals(stock.varints[i]), `varint ${v}`);
      assert.equal(new Decoder(patched[i]).readVarInt(), v);
    });
  });
});
