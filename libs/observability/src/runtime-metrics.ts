import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metric set every service exposes on /metrics (DESIGN.md
 * "Observability"): per-tier throughput, processing time, end-to-end latency
 * from the ingest receipt time, consumer lag, dead letters, outbox backlog.
 */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly consumed: Counter<'tier' | 'topic' | 'outcome'>;
  readonly produced: Counter<'tier' | 'topic'>;
  readonly processingSeconds: Histogram<'tier'>;
  readonly endToEndSeconds: Histogram<'tier' | 'stage'>;
  readonly consumerLag: Gauge<'tier' | 'topic' | 'partition'>;
  readonly deadLetters: Counter<'tier' | 'code'>;
  readonly outboxBacklog: Gauge<'tier'>;
  readonly outboxOldestAgeSeconds: Gauge<'tier'>;
  readonly offsetLost: Gauge<'tier' | 'topic' | 'partition'>;
  readonly tierYields: Counter<'tier'>;
  readonly tierTurns: Counter<'tier'>;
  readonly retries: Counter<'tier' | 'code'>;
  readonly inboxConflicts: Counter<'tier'>;
  readonly transactionRecords: Histogram<'tier'>;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.consumed = new Counter({ name: 'clinmesh_events_consumed_total', help: 'Events consumed, by outcome (processed, duplicate, dead_lettered, skipped_replayed)', labelNames: ['tier', 'topic', 'outcome'], registers });
    this.produced = new Counter({ name: 'clinmesh_events_produced_total', help: 'Events published to Kafka by the outbox relay', labelNames: ['tier', 'topic'], registers });
    this.processingSeconds = new Histogram({ name: 'clinmesh_processing_seconds', help: 'Time to process one consumed batch, per event', labelNames: ['tier'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
    this.endToEndSeconds = new Histogram({ name: 'clinmesh_end_to_end_latency_seconds', help: 'From the original message receipt at ingest to this stage finishing it', labelNames: ['tier', 'stage'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers });
    this.consumerLag = new Gauge({ name: 'clinmesh_consumer_lag', help: 'Messages between the consumer group position and the log end', labelNames: ['tier', 'topic', 'partition'], registers });
    this.deadLetters = new Counter({ name: 'clinmesh_dead_letters_total', help: 'Events dead-lettered, by error code', labelNames: ['tier', 'code'], registers });
    this.outboxBacklog = new Gauge({ name: 'clinmesh_outbox_backlog', help: 'Outbox rows not yet published to Kafka', labelNames: ['tier'], registers });
    this.outboxOldestAgeSeconds = new Gauge({ name: 'clinmesh_outbox_oldest_age_seconds', help: 'Age of the oldest outbox row not yet published (0 when none)', labelNames: ['tier'], registers });
    this.offsetLost = new Gauge({ name: 'clinmesh_consumer_offset_lost', help: '1 while a partition is stopped because its stored offset fell off the log', labelNames: ['tier', 'topic', 'partition'], registers });
    this.tierYields = new Counter({ name: 'clinmesh_tier_yields_total', help: 'Times a lower tier paused because a higher tier had backlog', labelNames: ['tier'], registers });
    this.tierTurns = new Counter({
      name: 'clinmesh_tier_turns_total', help: 'Event-loop turns a lower tier took inside its work while a higher tier was active (consumer/event-loop-turns.ts)',
      labelNames: ['tier'], registers,
    });
    this.retries = new Counter({ name: 'clinmesh_retries_total', help: 'Retriable processing failures retried', labelNames: ['tier', 'code'], registers });
    // Each consumer transaction has a fixed cost (its round trips, a WAL flush, the relay's publication of its
    // outbox rows): how many records share it says how much of each record's cost that is.
    this.transactionRecords = new Histogram({
      name: 'clinmesh_transaction_records', help: 'Records handled in one consumer transaction (a lane combines chunks of several partitions and tiers; labelled by the most urgent)',
      labelNames: ['tier'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers,
    });
    this.inboxConflicts = new Counter({ name: 'clinmesh_inbox_conflicts_total', help: 'Chunks handled before their inbox check whose transaction met an event already handled: rolled back and handled again after the check', labelNames: ['tier'], registers });
  }
}
