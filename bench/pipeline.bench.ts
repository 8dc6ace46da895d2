import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { TestPipeline, WebhookReceiver, adtMessage, hl7Batch, oruMessage, waitFor } from '@clinmesh/testing';
import { MllpClient } from '@clinmesh/hl7v2';
import { SERVICE_NAMES } from '@clinmesh/embedded-platform';
import { HEADER } from '@clinmesh/topology';
import { cpuBetween, sampleCpu } from './process-cpu';

/**
 * End-to-end figures of the six services on the embedded platform, all in
 * one run so ratios compare like with like on a noisy shared machine:
 *  - the ceiling: a bare kafkajs consume → produce hop on the same cluster;
 *  - end-to-end throughput of a mixed HL7 feed (MLLP, 8 connections) to webhook;
 *  - p50/p95/p99 end-to-end latency per tier (ingest receipt → webhook);
 *  - stat latency idle versus during a 20,000-message bulk flood, and per hop (`statHops`);
 *  - canonical events/s through the real normalization service alone.
 */
export interface PipelineBenchResult {
  bareHopMessagesPerSecond: number;
  /** Mixed feed sent over MLLP until the notifier had queued every message's webhook delivery. */
  endToEndMessagesPerSecond: number;
  /** The same until the webhook receiver had every message (the notifier's HTTP delivery included). */
  deliveredToWebhookMessagesPerSecond: number;
  /** Webhook deliveries per second while the notifier worked off its queue after the six services were through. */
  webhookDeliveriesPerSecondDraining: number;
  mixedFeedMessages: number;
  latencyMsByTier: Record<string, { n: number; p50: number; p95: number; p99: number }>;
  statIdle: { n: number; p50: number; p99: number };
  statDuringBulkFlood: { n: number; p50: number; p99: number; bulkMessages: number };
  statP99FloodOverIdle: number;
  /** Where a stat event's time went, per hop, idle and under the flood (`statHops`). */
  statHops: { idle: StatHops; flood: StatHops };
  normalizationServiceEventsPerSecond: number;
  endToEndOverBareHop: number;
  /** Where the CPU went during the mixed feed: per stage, ms per message (gross, and net of the idle rate). */
  cpuPerMessage: CpuPerMessage;
  /**
   * Per consuming stage during the mixed feed: its consumer transactions and the records they handled
   * (from its inbox: the rows one transaction wrote share its xmin). Each transaction has a fixed cost,
   * so the fewer records share one, the more of each record's CPU is that cost.
   */
  recordsPerTransaction: Record<string, { transactions: number; records: number; mean: number }>;
}

export interface CpuPerMessage {
  messages: number;
  seconds: number;
  /** Per stage: the service process plus the PostgreSQL backends of its database. */
  stages: Record<string, { serviceMs: number; postgresMs: number; totalMs: number; idleMsPerSecond: number; netMs: number; ceilingPerCore: number }>;
  kafkaMs: number;
  postgresOtherMs: number;
  /** All CPU per message (services, their databases, the cluster, PostgreSQL's own work) and what two cores could carry at that cost. */
  totalMs: number;
  twoCoreCeiling: number;
  /** The same without identity-resolution (it has its own issue). */
  totalMsWithoutIdentity: number;
  twoCoreCeilingWithoutIdentity: number;
}

/**
 * Per service, p50/p99 ms: `fetch`, from the upstream service's publication of a stat event to the
 * start of the transaction that consumed it; `work`, from that start to this service's publication
 * (handler, commit, stat relay), or for the notifier to the webhook's receipt. Ingest's `work`
 * starts at receipt. Read from each service's inbox and published-outbox rows.
 */
export type StatHops = Record<string, { fetch?: { p50: number; p99: number }; work: { p50: number; p99: number } }>;

async function statHops(pipeline: TestPipeline, webhook: WebhookReceiver, receipts: Map<string, { receivedAt: number }>): Promise<StatHops> {
  const ids = [...receipts.keys()];
  const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;
  const published = new Map<string, Map<string, { at: number; events: string[] }>>();
  for (const s of SERVICE_NAMES) {
    if (s === 'notifier') continue;
    const rows = await pipeline.query(s, `SELECT headers->>$2::text AS c, ${ms('min(published_at)')} AS at, array_agg(event_id) AS events
      FROM cm_outbox_published WHERE headers->>$2::text = ANY($1) AND headers->>$3::text = 'stat' GROUP BY 1`, [ids, HEADER.correlationId, HEADER.tier]);
    published.set(s, new Map(rows.map((r) => [r.c as string, { at: Number(r.at), events: r.events as string[] }])));
  }
  const pick = (v: number[]) => ({ p50: quantile(v, 0.5), p99: quantile(v, 0.99) });
  const hops: StatHops = {};
  const ingestWork = ids.flatMap((id) => { const p = published.get('ingest')!.get(id); return p ? [p.at - receipts.get(id)!.receivedAt] : []; });
  hops.ingest = { work: pick(ingestWork) };
  for (let k = 1; k < SERVICE_NAMES.length; k++) {
    const s = SERVICE_NAMES[k];
    const upstream = published.get(SERVICE_NAMES[k - 1])!;
    const events = [...upstream.values()].flatMap((p) => p.events);
    const rows = await pipeline.query(s, `SELECT event_id, ${ms('processed_at')} AS at FROM cm_inbox WHERE event_id = ANY($1)`, [events]);
    const startedAt = new Map(rows.map((r) => [r.event_id as string, Number(r.at)]));
    const fetch: number[] = [];
    const work: number[] = [];
    for (const id of ids) {
      const up = upstream.get(id);
      const starts = (up?.events ?? []).map((e) => startedAt.get(e)).filter((t): t is number => t !== undefined);
      if (!up || !starts.length) continue;
      const start = Math.min(...starts);
      fetch.push(start - up.at);
      const end = s === 'notifier' ? Math.min(...webhook.byCorrelation(id).map((d) => d.receivedAt)) : published.get(s)!.get(id)?.at;
      if (end !== undefined && Number.isFinite(end)) work.push(end - start);
    }
    hops[s] = { fetch: pick(fetch), work: pick(work) };
  }
  return hops;
}

const quantile = (values: number[], q: number) => {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]);
};

async function bareHop(brokers: string[], controlUrl: string, messages = 20000): Promise<number> {
  const suffix = Date.now().toString(36);
  const [input, output] = [`bench.hop.in.${suffix}`, `bench.hop.out.${suffix}`];
  await fetch(`${controlUrl}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topics: [{ name: input, partitions: 6 }, { name: output, partitions: 6 }] }) });
  const kafka = new Kafka({ clientId: 'bench-hop', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const value = Buffer.alloc(900, 7);
  for (let i = 0; i < messages; i += 1000) {
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 1000 }, (_, j) => ({ key: `p${(i + j) % 500}`, value })) });
  }
  const consumer = kafka.consumer({ groupId: `bench-hop-${suffix}`, sessionTimeout: 6000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: input, fromBeginning: true });
  let seen = 0;
  let started = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        if (!started) started = performance.now();
        await producer.send({ topic: output, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
        seen += batch.messages.length;
        if (seen >= messages) resolve();
      },
    });
  });
  await done;
  const rate = messages / ((performance.now() - started) / 1000);
  await consumer.disconnect();
  await producer.disconnect();
  return Math.round(rate);
}

/**
 * Waits until the notifier has queued a delivery for every id. Each poll asks only for the ids
 * not yet seen, so the measurement's own queries stay small next to the load it measures
 * (asking for all 6,000 ids ten times a second was a steady load on the notifier's database,
 * counted in its per-message CPU).
 */
async function waitUntilQueued(pipeline: TestPipeline, ids: readonly string[]): Promise<void> {
  const pending = new Set(ids);
  await waitFor(async () => {
    const rows = await pipeline.query('notifier', 'SELECT DISTINCT correlation_id FROM nf_delivery WHERE correlation_id = ANY($1)', [[...pending]]);
    for (const r of rows) pending.delete(r.correlation_id as string);
    return pending.size === 0;
  }, { what: 'every mixed-feed message queued for delivery by the notifier', timeoutMs: 900000, intervalMs: 100 });
}

async function receiptTimes(pipeline: TestPipeline, controlPrefix: string): Promise<Map<string, { receivedAt: number; tier: string }>> {
  const rows = await pipeline.query('ingest', `SELECT message_id, tier, (extract(epoch from received_at) * 1000)::float8 AS t FROM in_message WHERE control_id LIKE $1`, [`${controlPrefix}%`]);
  return new Map(rows.map((r) => [r.message_id as string, { receivedAt: Number(r.t), tier: r.tier as string }]));
}

function latencies(webhook: WebhookReceiver, receipts: Map<string, { receivedAt: number; tier: string }>): Map<string, number[]> {
  const byTier = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const d of webhook.deliveries) {
    const r = receipts.get(d.correlationId);
    if (!r || seen.has(d.correlationId)) continue;
    seen.add(d.correlationId);
    const list = byTier.get(r.tier) ?? [];
    list.push(d.receivedAt - r.receivedAt);
    byTier.set(r.tier, list);
  }
  return byTier;
}

async function recordsPerTransaction(pipeline: TestPipeline, from: number, to: number): Promise<PipelineBenchResult['recordsPerTransaction']> {
  const out: PipelineBenchResult['recordsPerTransaction'] = {};
  for (const service of SERVICE_NAMES.filter((s) => s !== 'ingest')) {
    const [{ transactions, records }] = await pipeline.query(service,
      `SELECT count(DISTINCT xmin::text)::int AS transactions, count(*)::int AS records FROM cm_inbox
        WHERE processed_at BETWEEN to_timestamp($1::float8 / 1000) AND to_timestamp($2::float8 / 1000)`, [from, to]);
    out[service] = { transactions, records, mean: Math.round((records / Math.max(1, transactions)) * 10) / 10 };
  }
  return out;
}

async function sendOverMllp(pipeline: TestPipeline, messages: string[], connections = 8): Promise<void> {
  const clients: MllpClient[] = await Promise.all(Array.from({ length: connections }, () => pipeline.mllpClient()));
  await Promise.all(clients.map(async (client, c) => {
    // Pipelined: up to 16 in flight per connection.
    const inFlight: Promise<Buffer>[] = [];
    for (let i = c; i < messages.length; i += connections) {
      inFlight.push(client.send(messages[i]));
      if (inFlight.length >= 16) await inFlight.shift();
    }
    await Promise.all(inFlight);
  }));
  await Promise.all(clients.map((c) => c.close()));
}

async function statProbe(pipeline: TestPipeline, webhook: WebhookReceiver, prefix: string, count: number, gapMs: number): Promise<{ latencies: number[]; hops: StatHops }> {
  for (let i = 0; i < count; i++) {
    await pipeline.sendHl7(oruMessage({ controlId: `${prefix}-${i}`, mrn: `MRN-${prefix}-${i % 7}`, flag: 'HH' }));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  const receipts = await receiptTimes(pipeline, prefix);
  await waitFor(() => [...receipts.keys()].every((id) => webhook.byCorrelation(id).length > 0), { what: `${prefix} deliveries`, timeoutMs: 600000, intervalMs: 100 });
  return { latencies: latencies(webhook, receipts).get('stat') ?? [], hops: await statHops(pipeline, webhook, receipts) };
}

function cpuSampler(pipeline: TestPipeline) {
  const pgPort = Number(new URL(pipeline.env.pgUrl).port);
  return () => sampleCpu({ ...Object.fromEntries(SERVICE_NAMES.map((s) => [s, pipeline.processes[s].pid])), kafka: pipeline.kafkaCluster.process.pid }, pgPort);
}

/** CPU of the mixed feed per message and stage; the idle window's rate (fetch loops, timers) gives the net figure. */
function cpuPerMessage(pipeline: TestPipeline, idle: Map<string, number>, idleSeconds: number, feed: Map<string, number>, seconds: number, messages: number): CpuPerMessage {
  const dbOf = (s: string) => `postgres:${pipeline.name}_${s.replace(/-/g, '_')}`.slice(0, 'postgres:'.length + 63);
  const round = (v: number) => Number(v.toFixed(3));
  const stages: CpuPerMessage['stages'] = {};
  for (const s of SERVICE_NAMES) {
    const service = feed.get(s) ?? 0;
    const pg = feed.get(dbOf(s)) ?? 0;
    const idleRate = ((idle.get(s) ?? 0) + (idle.get(dbOf(s)) ?? 0)) / idleSeconds;
    const total = (service + pg) / messages;
    const net = Math.max(0, (service + pg - idleRate * seconds) / messages);
    stages[s] = { serviceMs: round(service / messages), postgresMs: round(pg / messages), totalMs: round(total), idleMsPerSecond: round(idleRate), netMs: round(net), ceilingPerCore: Math.round(1000 / total) };
  }
  const kafkaMs = (feed.get('kafka') ?? 0) / messages;
  const postgresOtherMs = (feed.get('postgres (other)') ?? 0) / messages;
  const totalMs = Object.values(stages).reduce((a, st) => a + st.totalMs, 0) + kafkaMs + postgresOtherMs;
  const withoutIdentity = totalMs - stages['identity-resolution'].totalMs;
  return {
    messages, seconds: round(seconds), stages, kafkaMs: round(kafkaMs), postgresOtherMs: round(postgresOtherMs),
    totalMs: round(totalMs), twoCoreCeiling: Math.round(2000 / totalMs),
    totalMsWithoutIdentity: round(withoutIdentity), twoCoreCeilingWithoutIdentity: Math.round(2000 / withoutIdentity),
  };
}

export async function runPipelineBench(pipeline: TestPipeline, log: (line: string) => void = () => undefined): Promise<PipelineBenchResult> {
  const webhook = await pipeline.subscribeWebhook();
  log('bare kafkajs hop…');
  const bare = await bareHop(pipeline.kafkaCluster.brokers, pipeline.kafkaCluster.controlUrl);

  log('warm-up…');
  await sendOverMllp(pipeline, Array.from({ length: 300 }, (_, i) => adtMessage({ controlId: `WARM-${i}`, mrn: `MRN-W-${i % 50}` })));
  const warm = await receiptTimes(pipeline, 'WARM-');
  await waitFor(() => [...warm.keys()].every((id) => webhook.byCorrelation(id).length > 0), { what: 'warm-up deliveries', timeoutMs: 300000, intervalMs: 200 });

  // The idle cost of the running services (fetch loops, timers), to net it out of the per-message figures.
  const sample = cpuSampler(pipeline);
  log('idle CPU over 10 s…');
  const idleStart = sample();
  const idleT0 = performance.now();
  await new Promise((r) => setTimeout(r, 10_000));
  const idleSeconds = (performance.now() - idleT0) / 1000;
  const idleCpu = cpuBetween(idleStart, sample());

  log('stat latency, idle…');
  // ≥ 500 stat samples in each condition (issue 8), one every 200 ms: 5 stat results a second (each
  // opens two tasks and their deliveries) keep the probe itself from queueing behind its own messages.
  const statSamples = Number(process.env.CLINMESH_BENCH_STAT_SAMPLES ?? 500);
  const statGapMs = Number(process.env.CLINMESH_BENCH_STAT_GAP_MS ?? 200);
  const { latencies: idle, hops: idleHops } = await statProbe(pipeline, webhook, 'IDLE', statSamples, statGapMs);

  log('mixed feed…');
  const total = 6000;
  const mixed = Array.from({ length: total }, (_, i) => {
    const id = `MIX-${i}`;
    const mrn = `MRN-M-${i % 800}`;
    switch (i % 10) {
      case 0: case 1: case 2: return adtMessage({ controlId: id, mrn, trigger: 'A01' });
      case 3: case 4: return adtMessage({ controlId: id, mrn, trigger: 'A08' });
      case 5: case 6: return oruMessage({ controlId: id, mrn, flag: 'N' });
      case 7: case 8: return oruMessage({ controlId: id, mrn, flag: 'H' });
      default: return i % 20 === 9 ? oruMessage({ controlId: id, mrn, flag: 'HH' }) : adtMessage({ controlId: id, mrn, trigger: 'A03' });
    }
  });
  const started = Date.now();
  const feedStart = sample();
  const feedT0 = performance.now();
  await sendOverMllp(pipeline, mixed);
  const receipts = await receiptTimes(pipeline, 'MIX-');
  // Through the six services: every message has reached the notifier, which has queued its webhook
  // delivery (the last consumer's work). The HTTP delivery to the partner is measured apart below.
  const ids = [...receipts.keys()];
  await waitUntilQueued(pipeline, ids);
  const throughSixAt = Date.now();
  const feedCpu = cpuBetween(feedStart, sample());
  const perTransaction = await recordsPerTransaction(pipeline, started, throughSixAt);
  log(`records per consumer transaction during the feed: ${Object.entries(perTransaction).map(([s, t]) => `${s} ${t.mean} (${t.records} in ${t.transactions})`).join(', ')}`);
  const cpu = cpuPerMessage(pipeline, idleCpu, idleSeconds, feedCpu, (performance.now() - feedT0) / 1000, total);
  const deliveredBefore = webhook.deliveries.length;
  await waitFor(() => ids.every((id) => webhook.byCorrelation(id).length > 0), { what: 'mixed feed deliveries', timeoutMs: 1800000, intervalMs: 250 });
  log(`CPU per message (ms): ${Object.entries(cpu.stages).map(([st, c]) => `${st} ${c.totalMs} (net ${c.netMs})`).join(', ')}, kafka ${cpu.kafkaMs}, postgres other ${cpu.postgresOtherMs}; total ${cpu.totalMs} → two-core ceiling ${cpu.twoCoreCeiling} msg/s (${cpu.twoCoreCeilingWithoutIdentity} without identity)`);
  const lastDelivery = Math.max(...webhook.deliveries.filter((d) => receipts.has(d.correlationId)).map((d) => d.receivedAt));
  const e2eRate = Math.round(total / ((throughSixAt - started) / 1000));
  const deliveredRate = Math.round(total / ((lastDelivery - started) / 1000));
  const webhookDrainRate = Math.round((webhook.deliveries.length - deliveredBefore) / Math.max(0.001, (lastDelivery - throughSixAt) / 1000));
  const byTier = latencies(webhook, receipts);

  log('stat latency during a 20,000-message bulk flood…');
  const bulk = 20000;
  const flood = (async () => {
    for (let b = 0; b < bulk / 1000; b++) {
      await pipeline.sendHl7(hl7Batch(Array.from({ length: 1000 }, (_, i) => adtMessage({ controlId: `FLOOD-${b}-${i}`, mrn: `MRN-F-${(b * 1000 + i) % 700}`, trigger: 'A08' })), `FLOOD-${b}`));
    }
  })();
  await waitFor(async () => (await pipeline.query('ingest', `SELECT count(*)::int AS n FROM in_message WHERE control_id LIKE 'FLOOD-%'`))[0].n >= 3000, { what: 'the flood to build up', timeoutMs: 300000, intervalMs: 200 });
  const { latencies: during, hops: floodHops } = await statProbe(pipeline, webhook, 'FLOODSTAT', statSamples, statGapMs);
  const [{ n: bulkLeft }] = await pipeline.query('notifier', `SELECT count(*)::int AS n FROM cm_inbox WHERE consumer_group LIKE '%bulk%'`);
  log(`stat probe during the flood done; bulk events the notifier had consumed by then: ${bulkLeft} of ${bulk}`);
  const hopLine = (hops: StatHops) => Object.entries(hops).map(([s, h]) => `${s} ${h.fetch ? `${h.fetch.p50}/${h.fetch.p99} + ` : ''}${h.work.p50}/${h.work.p99}`).join(', ');
  log(`stat per hop, fetch + work p50/p99 ms — idle: ${hopLine(idleHops)}; flood: ${hopLine(floodHops)}`);
  await flood;

  log('normalization service alone…');
  // Alone: the stages after it are stopped too, so it does not share the two cores with their work.
  await Promise.all((['normalization', 'policy', 'task', 'notifier'] as const).map((s) => pipeline.processes[s].kill('SIGTERM')));
  const alone = 4000;
  await sendOverMllp(pipeline, Array.from({ length: alone }, (_, i) => adtMessage({ controlId: `NORM-${i}`, mrn: `MRN-N-${i % 600}`, trigger: 'A08' })));
  const [{ n: floodTotal }] = await pipeline.query('ingest', `SELECT count(*)::int AS n FROM in_message`);
  await waitFor(async () => (await pipeline.query('identity-resolution', 'SELECT count(*)::int AS n FROM cm_inbox'))[0].n >= floodTotal, { what: 'identity-resolution to catch up', timeoutMs: 900000, intervalMs: 500 });
  const [{ n: before }] = await pipeline.query('normalization', 'SELECT count(*)::int AS n FROM cm_inbox');
  pipeline.processes.normalization.start();
  await pipeline.waitReady(['normalization']);
  await waitFor(async () => (await pipeline.query('normalization', 'SELECT count(*)::int AS n FROM cm_inbox'))[0].n >= floodTotal, { what: 'normalization to drain', timeoutMs: 900000, intervalMs: 200 });
  const [{ first, last }] = await pipeline.query('normalization', `SELECT (extract(epoch from min(processed_at)) * 1000)::float8 AS first, (extract(epoch from max(processed_at)) * 1000)::float8 AS last FROM (SELECT processed_at FROM cm_inbox ORDER BY processed_at DESC LIMIT $1) x`, [floodTotal - before]);
  const normRate = Math.round((floodTotal - before) / ((Number(last) - Number(first)) / 1000));

  await webhook.stop();
  const summary = (v: number[]) => ({ n: v.length, p50: quantile(v, 0.5), p95: quantile(v, 0.95), p99: quantile(v, 0.99) });
  const statIdle = summary(idle);
  const statFlood = summary(during);
  return {
    bareHopMessagesPerSecond: bare,
    endToEndMessagesPerSecond: e2eRate,
    deliveredToWebhookMessagesPerSecond: deliveredRate,
    webhookDeliveriesPerSecondDraining: webhookDrainRate,
    mixedFeedMessages: total,
    latencyMsByTier: Object.fromEntries([...byTier.entries()].map(([tier, v]) => [tier, summary(v)])),
    statIdle: { n: statIdle.n, p50: statIdle.p50, p99: statIdle.p99 },
    statDuringBulkFlood: { n: statFlood.n, p50: statFlood.p50, p99: statFlood.p99, bulkMessages: bulk },
    statP99FloodOverIdle: Number((statFlood.p99 / statIdle.p99).toFixed(2)),
    statHops: { idle: idleHops, flood: floodHops },
    normalizationServiceEventsPerSecond: normRate,
    endToEndOverBareHop: Number((e2eRate / bare).toFixed(3)),
    cpuPerMessage: cpu,
    recordsPerTransaction: perTransaction,
  };
}
