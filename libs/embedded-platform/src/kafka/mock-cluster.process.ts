import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { loadMockClusterBinding } from './librdkafka-mock.ffi';
import { startLongPollFront } from './long-poll-front';

/**
 * The embedded Kafka-protocol cluster as its own process: librdkafka's mock
 * cluster (1 broker by default, mock-cluster.launcher.ts) plus a small loopback control API for what
 * the Kafka protocol cannot do against the mock — creating topics (the mock
 * reports controller id 0, so admin.createTopics fails) and injecting request
 * errors / leader moves for fault tests. The cluster must live in a process
 * of its own: driven from the same Node process as a kafkajs client, the
 * client's requests were observed to stall.
 *
 * It also hosts the long-poll front (long-poll-front.ts) that the services' kafkajs clients
 * connect through, so an idle fetch waits for records instead of polling the mock.
 *
 * Prints one JSON line `{"bootstraps": "...", "longPollFront": "...", "controlUrl": "..."}` when ready.
 */
async function main(): Promise<void> {
  const brokers = Number(process.env.CLINMESH_KAFKA_BROKERS_COUNT ?? 3);
  const controlPort = Number(process.env.CLINMESH_KAFKA_CONTROL_PORT ?? 0);
  const binding = loadMockClusterBinding(process.env.CLINMESH_LIBRDKAFKA ?? 'librdkafka.so.1');
  const cluster = binding.newCluster(brokers);
  const topics = new Map<string, number>();
  const front = await startLongPollFront({ brokers: cluster.bootstraps.split(',') });

  const server = createServer((req, res) => {
    void handle(req, res).catch((error) => send(res, 500, { error: String(error?.message ?? error) }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = req.method === 'POST' ? JSON.parse((await readBody(req)) || '{}') : {};
    if (req.method === 'GET' && req.url === '/info') return send(res, 200, { bootstraps: cluster.bootstraps, longPollFront: front.address, brokers, librdkafka: binding.version(), topics: Object.fromEntries(topics) });
    if (req.method === 'GET' && req.url === '/front') return send(res, 200, { address: front.address, ...front.stats() });
    if (req.method === 'POST' && req.url === '/topics') {
      const created: string[] = [];
      for (const t of body.topics as Array<{ name: string; partitions: number; replicationFactor?: number }>) {
        const existing = topics.get(t.name);
        if (existing !== undefined) {
          if (existing !== t.partitions) return send(res, 409, { error: `topic ${t.name} exists with ${existing} partitions` });
          continue;
        }
        const err = binding.createTopic(cluster.handle, t.name, t.partitions, Math.min(t.replicationFactor ?? brokers, brokers));
        if (err !== 0) return send(res, 500, { error: `rd_kafka_mock_topic_create(${t.name}): ${binding.errorName(err)}` });
        topics.set(t.name, t.partitions);
        created.push(t.name);
      }
      return send(res, 200, { created });
    }
    if (req.method === 'POST' && req.url === '/request-errors') {
      binding.pushRequestErrors(cluster.handle, Number(body.apiKey), (body.errors as number[]).map(Number));
      return send(res, 200, { pushed: body.errors.length });
    }
    if (req.method === 'POST' && req.url === '/partition-leader') {
      const err = binding.setPartitionLeader(cluster.handle, body.topic, Number(body.partition), Number(body.brokerId));
      return send(res, err === 0 ? 200 : 500, { error: err === 0 ? undefined : binding.errorName(err) });
    }
    send(res, 404, { error: 'not found' });
  }
  await new Promise<void>((resolve) => server.listen(controlPort, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : controlPort;
  process.stdout.write(`${JSON.stringify({ bootstraps: cluster.bootstraps, longPollFront: front.address, controlUrl: `http://127.0.0.1:${port}`, librdkafka: binding.version() })}\n`);
  const stop = () => {
    server.close();
    void front.close();
    binding.destroy(cluster.handle);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

void main().catch((error) => {
  process.stderr.write(`embedded kafka failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
