import { Admin, Kafka, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { TIERS, Tier, TopicSpec, isTier, topologyTopics } from '@clinmesh/topology';
import { SchemaCatalog } from '@clinmesh/schemas';
import { ClinmeshError } from '@clinmesh/errors';
import { Logger, RuntimeMetrics } from '@clinmesh/observability';
import { KafkaConnectionConfig, createKafkaClient } from './kafka/kafka-client.factory';
import { TopicProvisioner } from './kafka/topic-provisioner';
import { CONSUMER_DIRECTORY_TOPIC, ConsumerDirectoryReader, announceConsumers } from './kafka/consumer-directory';
import { AvroSerde, SchemaRegistryConfig } from './serde/avro-serde';
import { OutboxRelay, OutboxRelayOptions, errorSummary } from './outbox/outbox.relay';
import { OutboxWriter, OutgoingEvent } from './outbox/outbox.writer';
import { inTransaction } from './persistence/unit-of-work';
import { EventConsumer, EventConsumerOptions } from './consumer/event-consumer';
import { ConsumerDefinition } from './consumer/consumer-definition';
import { TierGovernor } from './consumer/tier-governor';
import { BulkPacing, DEFAULT_BULK_PACING } from './consumer/bulk-pacing';
import { ConsumerLane } from './consumer/consumer-lane';
import { definitionWait, planLanes } from './consumer/lanes';
import { withTierDefaults } from './consumer/tier-setting';
import { EventContext, EventOrigin, eventContext } from './publish/event-context';
import { DeadLetterOperations } from './operations/dead-letter.operations';
import { RuntimeLineage } from './operations/lineage.operations';
import { ReplayOperations, ReplayResult, ReplayTarget } from './operations/replay.operations';

export interface EventRuntimeConfig {
  service: string;
  kafka: KafkaConnectionConfig;
  registry: SchemaRegistryConfig;
  dataSource: DataSource;
  catalog: SchemaCatalog;
  metrics: RuntimeMetrics;
  logger: Logger;
  /** Creates missing topics from the topology on start (embedded: mock control; real: admin API). */
  provisioner?: TopicProvisioner;
  topics?: TopicSpec[];
  consumer?: Partial<EventConsumerOptions>;
  /** Relay batch size, crash-fallback poll, retention of published rows and inbox entries, re-publication pacing. */
  relay?: OutboxRelayOptions;
}

/** What a graceful stop waits for: nothing left in the outbox, no consumer behind its log end. */
export interface DrainStatus {
  service: string;
  outbox: number;
  republishing: boolean;
  consumers: Array<{ name: string; group: string; lane: string; lag: number }>;
  /** Sum of everything above: zero when drained. */
  pending: number;
}

/**
 * Fetch max wait per tier, straight against the embedded (librdkafka mock) cluster. It answers
 * an empty fetch only when the whole wait has passed, so an idle stat event would wait for it.
 * Stat 10 ms: on the one-broker embedded cluster an idle stat event waited p50 ~6 ms per hop
 * (~11 at 20 ms) for ~210 ms/s more CPU across the five consuming services at idle (804 against
 * 590; measured with /health-idle services, see the runtime README).
 */
const SHORT_POLL_MAX_WAIT_MS: Readonly<Record<Tier, number>> = { stat: 10, urgent: 100, routine: 250, bulk: 500 };

/**
 * Fetch max wait per tier through the embedded cluster's long-poll front, which answers as soon
 * as records arrive, as a real broker does: waiting costs no latency, so stat waits long too and
 * an idle stat lane fetches twice a second instead of a hundred times. The main lane keeps
 * urgent's 100 ms: partitions that tier yielding resumes join the lane's next fetch, not the
 * one already waiting.
 */
const LONG_POLL_MAX_WAIT_MS: Readonly<Record<Tier, number>> = { stat: 500, urgent: 100, routine: 250, bulk: 500 };

/**
 * How long a consumer with a backlog gathers fetched batches into one chunk,
 * per tier (consumer/batch-gatherer.ts): short where latency matters.
 */
const DEFAULT_GATHER_MS: Readonly<Record<Tier, number>> = { stat: 5, urgent: 20, routine: 100, bulk: 200 };

const DEFAULT_CONSUMER: EventConsumerOptions = {
  sessionTimeoutMs: 30000,
  heartbeatIntervalMs: 3000,
  maxWaitTimeMs: SHORT_POLL_MAX_WAIT_MS,
  partitionsConsumedConcurrently: 4,
  chunkSize: 200,
  maxInProcessAttempts: 6,
  kafkaCommitIntervalMs: 1000,
  lanes: 'stat-main',
  yieldingChunksPerBatch: 2,
  gatherMs: DEFAULT_GATHER_MS,
  combineRecords: 500,
};

/**
 * The event runtime every service uses: Avro serde against the registry,
 * typed consumers (one per tier of a stage, or per single topic), the one
 * publish path (handlers' `ctx.emit`, or `inTransaction` for work that does
 * not come from an event) into the transactional outbox and its relay, tier
 * priority, dead letters, replay and health. Services supply only handlers.
 */
export class EventRuntime {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly governor = new TierGovernor();
  readonly deadLetters: DeadLetterOperations;
  /** The runtime's part of a message's lineage (events emitted and consumed), for `GET /v1/lineage`. */
  readonly lineage: RuntimeLineage;
  private readonly replays: ReplayOperations;
  private admin!: Admin;
  private producer!: Producer;
  private statProducer: Producer | null = null;
  private relay!: OutboxRelay;
  private outbox!: OutboxWriter;
  private clusterId = '';
  private directory: ConsumerDirectoryReader | null = null;
  private readonly consumers = new Map<string, EventConsumer>();
  private lanes: ConsumerLane[] = [];
  private lagTimer: NodeJS.Timeout | null = null;
  private health = { kafka: false, registry: false, checkedAt: 0 };
  private started = false;
  private checkingHealth = false;

  constructor(private readonly config: EventRuntimeConfig) {
    this.kafka = createKafkaClient({ ...config.kafka, clientId: config.kafka.clientId || config.service }, (level, msg, extra) => {
      const log = config.logger as unknown as Record<string, (o: unknown, m: string) => void>;
      (log[level] ?? log.info).call(config.logger, extra, msg);
    });
    this.serde = new AvroSerde(config.registry, config.catalog);
    this.deadLetters = new DeadLetterOperations(config.dataSource, (group) => [...this.consumers.values()].find((c) => c.groupId === group));
    this.lineage = new RuntimeLineage(config.dataSource);
    this.replays = new ReplayOperations({ admin: () => this.admin, dataSource: config.dataSource, logger: config.logger, clusterId: () => this.clusterId });
  }

  get service(): string {
    return this.config.service;
  }
  get dataSource(): DataSource {
    return this.config.dataSource;
  }
  get logger(): Logger {
    return this.config.logger;
  }
  /** The bulk pacing this service's consumers follow (bulk-pacing.ts): other bulk work of the service (the notifier's deliveries) follows it too. */
  get bulkPacing(): BulkPacing {
    return this.config.consumer?.bulkPacing ?? DEFAULT_BULK_PACING;
  }

  get kafkaAdmin(): Admin {
    return this.admin;
  }
  currentClusterId(): string {
    return this.clusterId;
  }

  /** Connects, provisions topics, registers schemas, starts the relay and all consumers together. */
  async start(definitions: ConsumerDefinition[]): Promise<void> {
    const names = definitions.map((d) => d.name);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length) throw new ClinmeshError('RUNTIME.DUPLICATE_CONSUMER', `consumer names must be unique in ${this.service}: ${[...new Set(twice)].join(', ')}`);
    const topics = this.config.topics ?? topologyTopics();
    for (const t of topics) this.partitionCount.set(t.name, t.partitions);
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.clusterId = (await this.admin.describeCluster()).clusterId;
    if (this.config.provisioner) await this.config.provisioner.ensureTopics([...topics, CONSUMER_DIRECTORY_TOPIC]);
    // Six services register their subjects at once on start; a registry that resets a connection
    // under that load is asked again rather than failing the start.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.serde.registerTopics(topics);
        break;
      } catch (error) {
        if (attempt >= 8) throw error;
        const delay = Math.min(5000, 250 * 2 ** attempt);
        this.config.logger.warn({ err: errorSummary(error), attempt, delayMs: delay }, 'schema registration failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    const producerConfig = { idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5000 } };
    this.producer = this.kafka.producer(producerConfig);
    await this.producer.connect();
    if (this.config.relay?.statLane !== false) {
      this.statProducer = this.kafka.producer(producerConfig);
      await this.statProducer.connect();
    }
    this.relay = new OutboxRelay(this.config.dataSource, this.producer, this.config.metrics, this.config.logger, this.config.relay, {
      id: () => this.clusterId,
      admin: () => this.admin,
      groupsFor: (topic) => this.directory?.groupsFor(topic) ?? [],
      watchConsumers: async () => {
        this.directory ??= new ConsumerDirectoryReader(this.kafka, `${this.service}.runtime-directory`, this.config.logger);
        await this.directory.start();
      },
    }, this.statProducer);
    this.outbox = new OutboxWriter(this.serde, (tiers) => this.relay.notify(tiers), this.relay);
    this.relay.start();
    const options = {
      ...DEFAULT_CONSUMER,
      ...this.config.consumer,
      maxWaitTimeMs: withTierDefaults(this.config.kafka.longPollFront ? LONG_POLL_MAX_WAIT_MS : SHORT_POLL_MAX_WAIT_MS, this.config.consumer?.maxWaitTimeMs),
      gatherMs: withTierDefaults(DEFAULT_GATHER_MS, this.config.consumer?.gatherMs),
    };
    const deps = {
      service: this.config.service, kafka: this.kafka, admin: this.admin, dataSource: this.config.dataSource, serde: this.serde,
      outbox: this.outbox, metrics: this.config.metrics, logger: this.config.logger, governor: this.governor, clusterId: () => this.clusterId,
    };
    for (const definition of definitions) {
      const chunkSize = definition.chunkSize ?? (definition.tier === 'stat' ? Math.min(50, options.chunkSize) : options.chunkSize);
      this.consumers.set(definition.name, new EventConsumer(deps, { ...definition, chunkSize }, options));
    }
    // Consumer lanes: one kafkajs consumer (one group, one fetch loop per broker) hosts several
    // definitions, routed by topic (default: stat in one lane, everything else in another).
    const plans = planLanes(this.service, definitions, options.lanes, (d) => definitionWait(d, options.maxWaitTimeMs));
    this.lanes = plans.map((plan) => new ConsumerLane(deps, plan, plan.definitions.map((d) => this.consumers.get(d.name)!), options));
    this.config.logger.info({ lanes: this.lanes.map((l) => ({ group: l.groupId, maxWaitMs: l.maxWaitTimeMs, consumers: l.hosted.map((h) => h.name) })) }, 'consumer lanes');
    // Joined concurrently: on the embedded cluster a join takes ~3 s; one after another they add up.
    await Promise.all(this.lanes.map((l) => l.start()));
    // Tell upstream relays who reads what (a re-publication is paced by these groups' progress): the
    // lanes' groups, and tombstones for the definitions' own ids (their groups before lanes).
    const laneGroups = new Set(this.lanes.map((l) => l.groupId));
    await announceConsumers(this.producer, [
      ...this.lanes.map((l) => ({ group: l.groupId, service: this.service, topics: l.topics, at: Date.now() })),
      ...[...this.consumers.values()].filter((c) => !laneGroups.has(c.groupId)).map((c) => ({ group: c.groupId, service: this.service, topics: [], at: Date.now(), retired: true })),
    ]).catch((err) => this.config.logger.warn({ err: errorSummary(err) }, 'could not announce consumers in the consumer directory'));
    this.lagTimer = setInterval(() => void this.pollLag(), 300);
    this.lagTimer.unref();
    this.started = true;
    await this.checkHealth();
  }

  /**
   * The publish path for work that does not come from a consumed event (an
   * HTTP request, a timer, an MLLP message): `work` gets the same context a
   * handler gets — its transaction, deterministic ids derived from
   * `origin.id`, and `emit` into the outbox — and everything commits together.
   * The relay is woken after commit.
   */
  async inTransaction<T>(origin: EventOrigin, work: (ctx: EventContext) => Promise<T>): Promise<T> {
    return this.inTransactionEach([origin], ([ctx]) => work(ctx));
  }

  /**
   * `inTransaction` for several pieces of work with their own origins (a group commit of work that
   * finishes one item at a time, e.g. webhook attempts): one transaction, one context per origin —
   * each derives its ids and stamps its events from its own origin — and one outbox write.
   */
  async inTransactionEach<T>(origins: readonly EventOrigin[], work: (contexts: EventContext[]) => Promise<T>): Promise<T> {
    const sink: OutgoingEvent[] = [];
    return inTransaction(this.config.dataSource, async (uow) => {
      const value = await work(origins.map((origin) => eventContext(uow, origin, sink, this.config.logger)));
      await this.outbox.write(uow, sink);
      return value;
    });
  }

  /** The consumer with that name (`stat`, `identity-events`, ...). */
  consumer(name: string): EventConsumer | undefined {
    return this.consumers.get(name);
  }

  /** Every consumer of a priority tier. */
  consumersOfTier(tier: Tier): EventConsumer[] {
    return [...this.consumers.values()].filter((c) => c.tier === tier);
  }

  /**
   * Replay one consumer (by name) or every consumer of a tier (a tier name
   * that is not also a consumer name) from earliest, an offset or a timestamp.
   */
  async replay(consumerOrTier: string, target: ReplayTarget): Promise<ReplayResult[]> {
    const named = this.consumers.get(consumerOrTier);
    const chosen = named ? [named] : isTier(consumerOrTier) ? this.consumersOfTier(consumerOrTier) : [];
    if (!chosen.length) {
      throw new ClinmeshError('RUNTIME.NO_CONSUMER', `service ${this.service} has no consumer or tier "${consumerOrTier}" (consumers: ${[...this.consumers.keys()].join(', ')})`, { status: 404 });
    }
    const results: ReplayResult[] = [];
    for (const consumer of chosen) results.push(await this.replays.replay(consumer, target));
    return results;
  }

  consumerStatus() {
    return [...this.consumers.values()]
      .sort((a, b) => TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier))
      .map((c) => ({
        name: c.name,
        tier: c.tier,
        group: c.groupId,
        lane: c.kafkaGroupId,
        topics: c.definition.topics,
        backlog: this.governor.backlog(c.tier),
        partitions: c.status(),
      }));
  }

  /**
   * Where this service stands for a graceful stop: rows not yet published to
   * the current cluster, and per consumer the records between its position
   * and the log end (fresh log ends from the cluster).
   */
  async drainStatus(): Promise<DrainStatus> {
    const outbox = await this.relay.pendingCount();
    const consumers: DrainStatus['consumers'] = [];
    const ends = new Map<string, Array<{ partition: number; high: string; low: string }>>();
    const committedOf = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const c of this.consumers.values()) {
      const held = new Map(c.status().map((s) => [`${s.topic}:${s.partition}`, s.next]));
      let lag = 0;
      for (const topic of c.definition.topics) {
        if (!ends.has(topic)) ends.set(topic, await this.admin.fetchTopicOffsets(topic));
        const missing = ends.get(topic)!.filter((e) => !held.has(`${topic}:${e.partition}`));
        // Partitions this instance does not hold: the committed offsets of the lane's group (one
        // definition per topic in a lane, so they are this definition's progress).
        const key = `${c.kafkaGroupId}\u0000${topic}`;
        if (missing.length && !committedOf.has(key)) committedOf.set(key, (await this.admin.fetchOffsets({ groupId: c.kafkaGroupId, topics: [topic] }))[0]?.partitions ?? []);
        const committed = committedOf.get(key) ?? [];
        for (const e of ends.get(topic)!) {
          const at = held.get(`${topic}:${e.partition}`) ?? Number(committed.find((p) => p.partition === e.partition)?.offset ?? -1);
          lag += Math.max(0, Number(e.high) - (at < 0 ? Number(e.low) : at));
        }
      }
      consumers.push({ name: c.name, group: c.groupId, lane: c.kafkaGroupId, lag });
    }
    return { service: this.service, outbox, republishing: this.relay.isRepublishing, consumers, pending: outbox + consumers.reduce((n, c) => n + c.lag, 0) };
  }

  /** Waits until the outbox is empty (graceful shutdown, tests). */
  async drainOutbox(timeoutMs?: number): Promise<void> {
    await this.relay.drain(timeoutMs);
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> }> {
    // Refreshed in the background: a probe never waits for the cluster or the registry (a slow
    // answer on a loaded machine made every probe time out, and the service never became ready).
    if (Date.now() - this.health.checkedAt > 2000 && !this.checkingHealth) {
      this.checkingHealth = true;
      void this.checkHealth().finally(() => (this.checkingHealth = false));
    }
    let db = true;
    let dbDetail: string | undefined;
    try {
      await this.config.dataSource.query('SELECT 1');
    } catch (error) {
      db = false;
      dbDetail = errorSummary(error).message;
    }
    const checks = {
      database: { ok: db, detail: dbDetail },
      kafka: { ok: this.health.kafka },
      registry: { ok: this.health.registry },
      consumers: { ok: this.started },
    };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  async stop(): Promise<void> {
    if (this.lagTimer) clearInterval(this.lagTimer);
    // Stop taking new work first, then publish what was committed, then disconnect.
    await Promise.all(this.lanes.map((l) => l.stop().catch((err) => this.config.logger.warn({ err: errorSummary(err), group: l.groupId }, 'consumer lane stop failed'))));
    if (this.relay) {
      await this.relay.drain(10000).catch(() => undefined);
      await this.relay.stop();
    }
    await this.directory?.stop();
    await this.producer?.disconnect().catch(() => undefined);
    await this.statProducer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async checkHealth(): Promise<void> {
    const [kafka, registry] = await Promise.all([
      withTimeout(this.admin.describeCluster(), 2000).then(() => true, () => false),
      withTimeout(this.serde.ping(), 2000).then(() => true, () => false),
    ]);
    this.health = { kafka, registry, checkedAt: Date.now() };
  }

  /**
   * Group lag for every tier from Kafka (log end minus committed offset), for
   * partitions this instance does not hold yet. Partitions it holds report
   * fresher figures themselves after every chunk.
   */
  private polling = false;
  private readonly partitionCount = new Map<string, number>();
  private polls = 0;
  private async pollLag(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    // stat and urgent decide whether lower tiers yield: poll them often; the rest only feed metrics.
    const everyTier = this.polls++ % 10 === 0;
    try {
      for (const consumer of this.consumers.values()) {
        const tier = consumer.tier;
        if (!everyTier && tier !== 'stat' && tier !== 'urgent') continue;
        const held = new Set(consumer.status().map((s) => `${s.topic}:${s.partition}`));
        for (const topic of consumer.definition.topics) {
          // Partitions this instance holds report their own lag after every chunk; when it holds them
          // all (one replica), there is nothing to ask the cluster for — the idle cost of this poller.
          const count = this.partitionCount.get(topic);
          if (count !== undefined && [...Array(count).keys()].every((p) => held.has(`${topic}:${p}`))) continue;
          const [ends, committed] = await Promise.all([
            this.admin.fetchTopicOffsets(topic),
            this.admin.fetchOffsets({ groupId: consumer.kafkaGroupId, topics: [topic] }),
          ]);
          const committedBy = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
          // Held again now? (The lane may have taken the partition while the cluster answered: its own exact lag wins.)
          const heldNow = new Set(consumer.status().map((s) => `${s.topic}:${s.partition}`));
          for (const end of ends) {
            const key = `${topic}:${end.partition}`;
            if (heldNow.has(key)) continue;
            const position = committedBy.get(end.partition);
            const lag = position === undefined || position < 0 ? Number(end.high) - Number(end.low) : Number(end.high) - position;
            this.governor.report(tier, key, lag);
            this.config.metrics.consumerLag.set({ tier, topic, partition: String(end.partition) }, Math.max(0, lag));
          }
        }
      }
    } catch (error) {
      this.config.logger.debug({ err: errorSummary(error) }, 'lag poll failed');
    } finally {
      this.polling = false;
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
