import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Consumer, Kafka, Producer } from 'kafkajs';
import { LongPollFront, startLongPollFront } from '@clinmesh/embedded-platform';
import type { TopicSpec } from '@clinmesh/topology';
import { testEnvironment, uniqueName, waitFor } from '@clinmesh/testing';
import { createKafkaClient } from './kafka-client.factory';
import { MockControlTopicProvisioner } from './topic-provisioner';

/**
 * kafkajs through the long-poll front against the embedded cluster: an empty fetch is held at
 * the front until a produce reaches one of its topics or the consumer's own max wait runs out —
 * a real broker's long poll, which librdkafka's mock cluster does not give. The front here is
 * this test's own (in-process, over the shared cluster), so its counters are this test's alone.
 */
describe('long-poll front (integration)', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const watched = `it.${uniqueName('front')}.watched`;
  const other = `it.${uniqueName('front')}.other`;
  const idle = `it.${uniqueName('front')}.idle`;
  let front: LongPollFront;
  let kafka: Kafka;
  let producer: Producer;
  const consumers: Consumer[] = [];

  before(async () => {
    await new MockControlTopicProvisioner(env.kafkaControlUrl).ensureTopics([watched, other, idle].map((name) => ({ name, partitions: 2 }) as TopicSpec));
    front = await startLongPollFront({ brokers: env.kafkaBrokers });
    kafka = createKafkaClient({ brokers: env.kafkaBrokers, clientId: 'front-it', longPollFront: front.address }, () => undefined);
    producer = kafka.producer();
    await producer.connect();
  });
  after(async () => {
    // The front first: a consumer's disconnect otherwise waits out the fetch it holds (a minute).
    await front?.close();
    await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
    await producer?.disconnect().catch(() => undefined);
  });

  async function consume(topic: string, maxWaitTimeInMs: number, received: string[]): Promise<void> {
    const consumer = kafka.consumer({ groupId: uniqueName('front-g'), maxWaitTimeInMs });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value!.toString()) });
  }

  it('wakes a held fetch when a record is produced to its topic, not to another, and well before its max wait', async () => {
    const received: string[] = [];
    // A 60 s max wait: delivered only on expiry, the record would need a minute and count as `expired`.
    await consume(watched, 60_000, received);
    await waitFor(() => front.stats().held >= 1, { timeoutMs: 30_000, what: 'a fetch held at the front' });
    const before = front.stats();

    await producer.send({ topic: other, messages: [{ value: 'elsewhere' }] });
    assert.equal(front.stats().woken, before.woken, 'a produce to another topic wakes nothing');

    await producer.send({ topic: watched, messages: [{ key: 'k', value: 'first' }] });
    await waitFor(() => received.length === 1, { timeoutMs: 30_000, what: 'the record delivered' });
    const after = front.stats();
    assert.deepEqual(received, ['first']);
    assert.ok(after.woken > before.woken, 'the produce woke the held fetch');
    assert.equal(after.expired, before.expired, 'no fetch answered by running out its wait');
  });

  it('holds an idle fetch for its whole max wait instead of polling the cluster', async () => {
    const received: string[] = [];
    await consume(idle, 300, received);
    const start = front.stats();
    await waitFor(() => front.stats().expired >= start.expired + 5, { timeoutMs: 30_000, what: 'five idle fetches answered on expiry' });
    const now = front.stats();
    const answered = now.expired - start.expired;
    // Each idle fetch costs one read of the cluster (plus, per consumer, at most one in flight):
    // a front that passed the wait through, or re-read until the deadline, would not hold them.
    assert.ok(now.upstreamFetches - start.upstreamFetches <= answered + consumers.length + 1, `${now.upstreamFetches - start.upstreamFetches} cluster reads for ${answered} idle answers`);
    assert.deepEqual(received, []);
  });

  it('refuses a client that names a broker not of this cluster, without connecting to it', async () => {
    const before = front.stats().refused;
    const [host, port] = front.address.split(':');
    for (const target of ['127.0.0.1:1', '10.0.0.8:9092']) {
      const socket = connect({ host, port: Number(port) });
      socket.on('error', () => undefined);
      socket.write(`clinmesh-kafka-front ${target}\n`);
      await new Promise((resolve) => socket.once('close', resolve));
    }
    assert.equal(front.stats().refused, before + 2);
  });
});
