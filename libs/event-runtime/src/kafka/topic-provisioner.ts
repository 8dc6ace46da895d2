import { Admin } from 'kafkajs';
import { TopicSpec } from '@clinmesh/topology';

/**
 * Creates topics from the topology. Real clusters use the Kafka admin API;
 * the embedded mock cluster refuses admin.createTopics (it reports controller
 * id 0), so it exposes a small control endpoint that calls
 * rd_kafka_mock_topic_create instead.
 */
export interface TopicProvisioner {
  ensureTopics(topics: TopicSpec[]): Promise<void>;
}

export class KafkaAdminTopicProvisioner implements TopicProvisioner {
  constructor(private readonly admin: Admin, private readonly replicationFactor = -1) {}
  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (!missing.length) return;
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: this.replicationFactor })),
    });
  }
}

export class MockControlTopicProvisioner implements TopicProvisioner {
  constructor(private readonly controlUrl: string) {}
  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const res = await fetch(`${this.controlUrl}/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topics: topics.map((t) => ({ name: t.name, partitions: t.partitions })) }),
    });
    if (!res.ok) throw new Error(`embedded kafka control refused topic creation: ${res.status} ${await res.text()}`);
  }
}
