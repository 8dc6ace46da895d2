import { Kafka } from 'kafkajs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { HEADER } from '@clinmesh/topology';
import { RunningMockCluster, ServiceName, startMockCluster } from '@clinmesh/embedded-platform';
import { TestEnvironment, testEnvironment, uniqueName } from './test-environment';
import { ServiceProcesses, ServiceProcessOptions } from './service-processes';

export interface ServiceHarnessOptions extends ServiceProcessOptions {
  /** Which services to run (default: notifier only). */
  services?: readonly ServiceName[];
}

/**
 * Some of the services as real processes on their own Kafka-protocol cluster
 * and fresh databases (the shared registry), for contract tests that feed a
 * service registry-encoded events of the topics it consumes and read what it
 * publishes — without the services upstream of it.
 */
export class ServiceHarness extends ServiceProcesses {
  private readonly registry: SchemaRegistry;
  private readonly schemaIds = new Map<string, number>();
  private producer: ReturnType<Kafka['producer']> | null = null;

  private constructor(env: TestEnvironment, name: string, kafkaCluster: RunningMockCluster, services: readonly ServiceName[]) {
    super(env, name, kafkaCluster, services);
    this.registry = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
  }

  static async start(label: string, options: ServiceHarnessOptions = {}): Promise<ServiceHarness> {
    const env = testEnvironment();
    const kafka = await startMockCluster();
    const h = new ServiceHarness(env, uniqueName(label), kafka, options.services ?? ['notifier']);
    try {
      // The services register every topology topic's schema under `<topic>-value` on start.
      await h.boot(options);
    } catch (error) {
      await h.stop().catch(() => undefined);
      throw error;
    }
    return h;
  }

  /** Produces registry-encoded events (the topic's schema) with the runtime's headers, as an upstream service would. */
  async produce(topic: string, events: Array<{ key: string; value: { eventId: string; correlationId: string; tier?: string }; tier?: string; receivedAt?: number }>): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka().producer();
      await this.producer.connect();
    }
    const messages = await Promise.all(events.map(async (e) => ({
      key: e.key,
      value: await this.registry.encode(await this.schemaId(topic), e.value),
      headers: {
        [HEADER.eventId]: e.value.eventId,
        [HEADER.correlationId]: e.value.correlationId,
        [HEADER.tier]: e.tier ?? e.value.tier ?? 'routine',
        [HEADER.receivedAt]: String(e.receivedAt ?? Date.now()),
        [HEADER.source]: 'e2e',
      },
    })));
    await this.producer.send({ topic, acks: -1, messages });
  }

  async decode<T>(buffer: Buffer | null): Promise<T> {
    return (await this.registry.decode(buffer!)) as T;
  }

  private async schemaId(topic: string): Promise<number> {
    if (!this.schemaIds.has(topic)) this.schemaIds.set(topic, await this.registry.getLatestSchemaId(`${topic}-value`));
    return this.schemaIds.get(topic)!;
  }

  override async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    await super.stop();
  }
}
