import type { KafkaMessage } from 'kafkajs';

/**
 * Why this exists: librdkafka's mock cluster (the embedded platform) answers a
 * fetch with at most ONE record batch per partition — whatever one producer
 * request wrote (`rdkafka_mock_handlers.c`: "FIXME: Multiple messageSets?").
 * A producer that sends one event per request therefore hands its consumers
 * one event per fetch, every stage commits one event per transaction, its
 * relay publishes one event per request again, and the whole pipeline runs
 * at per-transaction cost (measured: 3,739 transactions for 4,000 events in
 * normalization). A real broker fills a fetch up to its byte limits.
 *
 * So a consumer with a backlog gathers: it resolves what it fetched (kafkajs
 * then fetches on from there at once) and holds it, until a chunk is full,
 * the partition is caught up with its high watermark, or the gather window
 * of its tier has passed — then it processes everything held as usual.
 * Nothing changes for durability: only the stored offsets in the service's
 * database say what was processed; held messages that are dropped (a
 * rebalance, a yield, a stop) are fetched again from there.
 */
export interface GatherDecision {
  /** Messages held plus the ones just fetched. */
  buffered: number;
  /** The last one is the partition's last (the fetch saw the high watermark). */
  caughtUp: boolean;
  /** Since the first held message was fetched. */
  ageMs: number;
  chunkSize: number;
  gatherMs: number;
}

/** Gather on only while there is more to fetch, the chunk is not full and the window is open. */
export function shouldGather(d: GatherDecision): boolean {
  return d.gatherMs > 0 && !d.caughtUp && d.buffered < d.chunkSize && d.ageMs < d.gatherMs;
}

interface Held {
  messages: KafkaMessage[];
  since: number;
  timer: NodeJS.Timeout;
}

/**
 * The messages one consumer definition holds per partition (`topic:partition`)
 * while it gathers. A hold that no further fetch continues (the partition was
 * paused, or only non-data records follow) expires: the owner drops it and
 * seeks back to its stored position, so held messages are never stranded.
 */
export class GatheredBatches {
  private readonly held = new Map<string, Held>();

  constructor(private readonly onExpired: (key: string) => void, private readonly now: () => number = Date.now) {}

  /** The offset a continuing fetch must start at, or undefined when nothing is held. */
  nextOffset(key: string): number | undefined {
    const h = this.held.get(key);
    return h ? Number(h.messages[h.messages.length - 1].offset) + 1 : undefined;
  }

  /** Held messages of `key` (removed) followed by `fresh`, and when the first of them was fetched. */
  take(key: string, fresh: KafkaMessage[]): { messages: KafkaMessage[]; since: number; resolvedAhead: boolean } {
    const h = this.held.get(key);
    if (!h) return { messages: fresh, since: this.now(), resolvedAhead: false };
    this.drop(key);
    // Appended in place (the hold is gone): gathering a chunk stays linear in its size.
    h.messages.push(...fresh);
    return { messages: h.messages, since: h.since, resolvedAhead: true };
  }

  /** Hold `messages` for `key`; expires after `expireMs` unless taken. */
  hold(key: string, messages: KafkaMessage[], since: number, expireMs: number): void {
    this.drop(key);
    const timer = setTimeout(() => {
      if (this.held.get(key)?.timer !== timer) return;
      this.held.delete(key);
      this.onExpired(key);
    }, expireMs);
    timer.unref();
    this.held.set(key, { messages, since, timer });
  }

  has(key: string): boolean {
    return this.held.has(key);
  }

  drop(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    clearTimeout(h.timer);
    this.held.delete(key);
  }

  clear(): void {
    for (const key of [...this.held.keys()]) this.drop(key);
  }

  get size(): number {
    return this.held.size;
  }
}
