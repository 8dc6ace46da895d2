import { createConnection, createServer, Server, Socket } from 'node:net';
import { FrameReader, readFetchRequest, readProducePartitions, readRequestHeader, responseCorrelationId, summarizeFetchResponse } from './kafka-frames';

/**
 * A loopback front for the embedded cluster that gives its fetches a real broker's long poll.
 *
 * librdkafka's mock cluster answers a fetch that finds no records only after the fetch's whole
 * max wait, and never early when records arrive (rdkafka_mock_handlers.c: "this isn't strictly
 * correct…"). A real broker answers as soon as records arrive. Against the mock, a consumer must
 * therefore choose between latency (a short wait) and an idle fetch loop: the stat lanes' 10 ms
 * wait cost each service ~150 ms of CPU per second doing nothing, a third of the two-core
 * machine across six services.
 *
 * The front sits between kafkajs and the mock. It forwards every request; a Fetch it forwards
 * with max wait 0. An empty answer is held, not returned: the front re-sends the fetch when a
 * Produce through the front to one of its partitions completes, and returns the held answer when
 * the client's own max wait runs out — the broker's contract. Everything else passes through
 * byte for byte.
 *
 * A client names its broker in one preamble line (`clinmesh-kafka-front <host>:<port>\n`, sent
 * by the runtime's socket factory) so no Metadata answer needs rewriting. The front only ever
 * connects to the cluster's own loopback brokers; any other target is refused and counted.
 *
 * Limits: a produce from a client that does not come through the front (librdkafka, Python)
 * does not wake a held fetch — it is found when the fetch's max wait runs out, as against the
 * bare mock. Responses on one connection may overtake a held fetch (kafkajs matches them by
 * correlation id; clients that need broker order should connect to the cluster directly).
 */
export const FRONT_PREAMBLE = 'clinmesh-kafka-front';
const PREAMBLE_LINE = new RegExp(`^${FRONT_PREAMBLE} (localhost|127\\.0\\.0\\.1|\\[?::1\\]?):(\\d{1,5})$`);
const MAX_PREAMBLE = 256;

export interface LongPollFrontStats {
  connections: number;
  refused: number;
  /** Fetches sent on to the cluster (first sends and re-sends). */
  upstreamFetches: number;
  /** Empty answers held rather than returned. */
  held: number;
  /** Held fetches re-sent because a produce reached one of their partitions. */
  woken: number;
  /** Held fetches answered empty when the client's max wait ran out. */
  expired: number;
  /** Frames passed through unread because they could not be parsed. */
  unparsed: number;
}

interface TrackedFetch {
  connection: FrontConnection;
  frame: Buffer;
  version: number;
  /** `partitionKey`s it reads. */
  partitions: string[];
  deadline: number;
  /** Produce count of its partitions when last sent: a produce landing while it is in flight re-sends at once. */
  seen: number;
  heldAnswer?: Buffer;
  timer?: NodeJS.Timeout;
}

type Tracked = { kind: 'fetch'; fetch: TrackedFetch } | { kind: 'produce'; partitions: string[] };

export interface LongPollFront {
  address: string;
  stats(): LongPollFrontStats;
  close(): Promise<void>;
}

/** `brokers`: the cluster's `host:port` list; only these ports on loopback are reachable through the front. */
export async function startLongPollFront(options: { brokers: string[]; port?: number; maxFrameBytes?: number }): Promise<LongPollFront> {
  const hub = new FetchHub();
  const ports = new Set(options.brokers.map((b) => Number(b.slice(b.lastIndexOf(':') + 1))));
  const connections = new Set<FrontConnection>();
  const server: Server = createServer({ noDelay: true }, (client) => {
    hub.stats.connections++;
    const connection = new FrontConnection(client, hub, ports, options.maxFrameBytes ?? 128 * 1024 * 1024);
    connections.add(connection);
    client.once('close', () => connections.delete(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    address: `127.0.0.1:${port}`,
    stats: () => ({ ...hub.stats }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.close();
        server.close(() => resolve());
      }),
  };
}

/** Held fetches by partition, and how many produces each partition has seen. */
class FetchHub {
  readonly stats: LongPollFrontStats = { connections: 0, refused: 0, upstreamFetches: 0, held: 0, woken: 0, expired: 0, unparsed: 0 };
  private readonly produced = new Map<string, number>();
  private readonly waiting = new Map<string, Set<TrackedFetch>>();

  producedCount(partitions: readonly string[]): number {
    let n = 0;
    for (const p of partitions) n += this.produced.get(p) ?? 0;
    return n;
  }

  hold(fetch: TrackedFetch): void {
    for (const t of fetch.partitions) {
      let set = this.waiting.get(t);
      if (!set) this.waiting.set(t, (set = new Set()));
      set.add(fetch);
    }
  }

  release(fetch: TrackedFetch): void {
    for (const t of fetch.partitions) this.waiting.get(t)?.delete(fetch);
  }

  /** A produce to `partitions` completed: every fetch held on one of them reads again. */
  onProduced(partitions: readonly string[]): void {
    const wake = new Set<TrackedFetch>();
    for (const t of partitions) {
      this.produced.set(t, (this.produced.get(t) ?? 0) + 1);
      for (const f of this.waiting.get(t) ?? []) wake.add(f);
    }
    for (const f of wake) {
      this.release(f);
      this.stats.woken++;
      f.connection.resend(f);
    }
  }
}

class FrontConnection {
  private upstream?: Socket;
  private preamble: Buffer | undefined = Buffer.alloc(0);
  private readonly fromClient: FrameReader;
  private readonly fromUpstream: FrameReader;
  private readonly tracked = new Map<number, Tracked>();
  private closed = false;

  constructor(
    private readonly client: Socket,
    private readonly hub: FetchHub,
    private readonly brokerPorts: Set<number>,
    maxFrameBytes: number,
  ) {
    this.fromClient = new FrameReader(maxFrameBytes);
    this.fromUpstream = new FrameReader(maxFrameBytes);
    client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    client.on('error', () => this.close());
    client.on('close', () => this.close());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tracked.values()) if (t.kind === 'fetch') this.forget(t.fetch);
    this.tracked.clear();
    this.client.destroy();
    this.upstream?.destroy();
  }

  private onClientData(chunk: Buffer): void {
    if (this.preamble) {
      const joined = Buffer.concat([this.preamble, chunk]);
      const end = joined.indexOf(0x0a);
      if (end < 0) {
        if (joined.length > MAX_PREAMBLE) return this.refuse();
        this.preamble = joined;
        return;
      }
      const target = parseTarget(joined.toString('latin1', 0, end), this.brokerPorts);
      if (!target) return this.refuse();
      this.preamble = undefined;
      this.connectUpstream(target);
      chunk = joined.subarray(end + 1);
      if (!chunk.length) return;
    }
    let frames: Buffer[];
    try {
      frames = this.fromClient.push(chunk);
    } catch {
      return this.close();
    }
    // Corked: the frames of one read leave in one write, not one system call each.
    this.upstream!.cork();
    for (const frame of frames) this.upstream!.write(this.trackRequest(frame));
    this.upstream!.uncork();
  }

  private refuse(): void {
    this.hub.stats.refused++;
    this.preamble = undefined;
    this.close();
  }

  private connectUpstream(port: number): void {
    const upstream = createConnection({ host: '127.0.0.1', port });
    upstream.setNoDelay(true);
    upstream.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    upstream.on('error', () => this.close());
    upstream.on('close', () => this.close());
    this.upstream = upstream;
  }

  /** Notes what the front must read of the answer; a fetch goes on with max wait 0. */
  private trackRequest(frame: Buffer): Buffer {
    try {
      const header = readRequestHeader(frame);
      const fetch = readFetchRequest(frame, header);
      if (fetch) {
        this.hub.stats.upstreamFetches++;
        if (fetch.maxWaitMs <= 0) return frame;
        frame.writeInt32BE(0, fetch.maxWaitOffset);
        const tracked: TrackedFetch = { connection: this, frame, version: header.apiVersion, partitions: fetch.partitions, deadline: Date.now() + fetch.maxWaitMs, seen: this.hub.producedCount(fetch.partitions) };
        this.tracked.set(header.correlationId, { kind: 'fetch', fetch: tracked });
        return frame;
      }
      const partitions = readProducePartitions(frame, header);
      if (partitions) this.tracked.set(header.correlationId, { kind: 'produce', partitions });
    } catch {
      this.hub.stats.unparsed++;
    }
    return frame;
  }

  private onUpstreamData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.fromUpstream.push(chunk);
    } catch {
      return this.close();
    }
    this.client.cork();
    for (const frame of frames) this.onAnswer(frame);
    this.client.uncork();
  }

  private onAnswer(frame: Buffer): void {
    const correlationId = responseCorrelationId(frame);
    const tracked = this.tracked.get(correlationId);
    if (!tracked) return void this.client.write(frame);
    if (tracked.kind === 'produce') {
      this.tracked.delete(correlationId);
      this.client.write(frame);
      return this.hub.onProduced(tracked.partitions);
    }
    const fetch = tracked.fetch;
    let ready = true;
    try {
      const summary = summarizeFetchResponse(frame, fetch.version);
      ready = summary.recordBytes > 0 || summary.hasError || Date.now() >= fetch.deadline;
    } catch {
      this.hub.stats.unparsed++;
    }
    if (ready) return this.answer(correlationId, fetch, frame);
    fetch.heldAnswer = frame;
    const seen = this.hub.producedCount(fetch.partitions);
    if (seen !== fetch.seen) return this.resend(fetch); // a produce landed while this fetch was on its way
    this.hub.stats.held++;
    this.hub.hold(fetch);
    fetch.timer ??= setTimeout(() => this.expire(correlationId), Math.max(0, fetch.deadline - Date.now()));
  }

  resend(fetch: TrackedFetch): void {
    if (this.closed) return;
    fetch.seen = this.hub.producedCount(fetch.partitions);
    fetch.heldAnswer = undefined;
    this.hub.stats.upstreamFetches++;
    this.upstream!.write(fetch.frame);
  }

  private expire(correlationId: number): void {
    const tracked = this.tracked.get(correlationId);
    if (!tracked || tracked.kind !== 'fetch') return;
    const fetch = tracked.fetch;
    fetch.timer = undefined;
    // Re-sent and on its way: its answer is past the deadline and goes straight to the client.
    if (!fetch.heldAnswer) return;
    this.hub.stats.expired++;
    this.answer(correlationId, fetch, fetch.heldAnswer);
  }

  private answer(correlationId: number, fetch: TrackedFetch, frame: Buffer): void {
    this.tracked.delete(correlationId);
    this.forget(fetch);
    this.client.write(frame);
  }

  private forget(fetch: TrackedFetch): void {
    this.hub.release(fetch);
    if (fetch.timer) clearTimeout(fetch.timer);
    fetch.timer = undefined;
  }
}

/** The broker port a preamble names, if it is one of the cluster's own on loopback. */
export function parseTarget(line: string, brokerPorts: Set<number>): number | undefined {
  const match = PREAMBLE_LINE.exec(line.trim());
  if (!match) return undefined;
  const port = Number(match[2]);
  return brokerPorts.has(port) ? port : undefined;
}
