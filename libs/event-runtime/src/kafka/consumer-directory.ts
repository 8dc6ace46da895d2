import { Consumer, Kafka, Producer } from 'kafkajs';
import { TopicSpec } from '@clinmesh/topology';
import { Logger } from '@clinmesh/observability';

/**
 * Which consumer groups read which topic, announced by every runtime when its
 * consumers have joined. A re-publication is paced by the committed offsets of
 * exactly these groups; the embedded cluster answers neither ListGroups nor
 * DescribeGroups, so the groups cannot be discovered from the broker.
 * Values are small JSON records keyed by group id (runtime control data, not an event).
 */
export const CONSUMER_DIRECTORY_TOPIC: TopicSpec = { name: 'clinmesh.runtime.consumers', partitions: 1, schema: '' };

export interface ConsumerAnnouncement {
  group: string;
  service: string;
  topics: readonly string[];
  at: number;
  /** A group no longer used (a definition's own group before consumer lanes): announced with no topics. */
  retired?: boolean;
}

export async function announceConsumers(producer: Producer, announcements: ConsumerAnnouncement[]): Promise<void> {
  if (!announcements.length) return;
  await producer.send({
    topic: CONSUMER_DIRECTORY_TOPIC.name,
    acks: -1,
    messages: announcements.map((a) => ({ key: a.group, value: JSON.stringify(a) })),
  });
}

/** Reads the directory from its beginning (own group), keeping topic → groups current. */
export class ConsumerDirectoryReader {
  private consumer: Consumer | null = null;
  private readonly byGroup = new Map<string, ConsumerAnnouncement>();

  constructor(private readonly kafka: Kafka, private readonly groupId: string, private readonly logger: Logger) {}

  async start(): Promise<void> {
    if (this.consumer) return;
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 200, sessionTimeout: 10000, heartbeatInterval: 1000 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: CONSUMER_DIRECTORY_TOPIC.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        try {
          const a = JSON.parse(String(message.value)) as ConsumerAnnouncement;
          if (a?.group && Array.isArray(a.topics)) this.byGroup.set(a.group, a);
        } catch {
          this.logger.warn({ offset: message.offset }, 'unreadable consumer directory record ignored');
        }
      },
    });
  }

  groupsFor(topic: string): string[] {
    return [...this.byGroup.values()].filter((a) => a.topics.includes(topic)).map((a) => a.group);
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.disconnect().catch(() => undefined);
  }
}
