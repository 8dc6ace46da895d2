/**
 * The few Kafka wire-protocol fields the long-poll front reads (long-poll-front.ts). Only the
 * non-flexible versions kafkajs 2.2.4 speaks are understood — Fetch v4–v11, Produce v3–v8 —
 * every other frame is passed through untouched. Layouts: the Kafka protocol guide
 * (kafka.apache.org/protocol), request header v1 / response header v0.
 */

export const API_PRODUCE = 0;
export const API_FETCH = 1;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Offset of the request body in the frame (after the 4-byte size). */
  bodyOffset: number;
}

/** `frame` is a whole frame including its 4-byte size prefix. */
export function readRequestHeader(frame: Buffer): RequestHeader {
  const clientIdLength = frame.readInt16BE(12);
  return { apiKey: frame.readInt16BE(4), apiVersion: frame.readInt16BE(6), correlationId: frame.readInt32BE(8), bodyOffset: 14 + Math.max(0, clientIdLength) };
}

export function responseCorrelationId(frame: Buffer): number {
  return frame.readInt32BE(4);
}

/** A topic-partition as one string key: `<topic> <partition>` (a topic name has no space). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic} ${partition}`;
}

export interface FetchRequestView {
  maxWaitMs: number;
  /** Partitions the fetch reads (`partitionKey`); a produce to one of them may satisfy it. */
  partitions: string[];
  /** Byte offset of max_wait_ms, rewritten to 0 when the front forwards the fetch. */
  maxWaitOffset: number;
}

/**
 * A Fetch the front can hold: a version it understands and no incremental fetch session
 * (epoch -1), so sending the same bytes again is a fresh, idempotent read.
 */
export function readFetchRequest(frame: Buffer, header: RequestHeader): FetchRequestView | undefined {
  const v = header.apiVersion;
  if (header.apiKey !== API_FETCH || v < 4 || v > 11) return undefined;
  let o = header.bodyOffset + 4; // replica_id
  const maxWaitOffset = o;
  const maxWaitMs = frame.readInt32BE(o);
  o += 4 + 4 + 4 + 1; // max_wait_ms, min_bytes, max_bytes, isolation_level
  if (v >= 7) {
    const epoch = frame.readInt32BE(o + 4);
    if (epoch !== -1) return undefined;
    o += 8; // session_id, session_epoch
  }
  // partition, [current_leader_epoch v9+], fetch_offset, [log_start_offset v5+], partition_max_bytes
  const partitionBytes = 4 + (v >= 9 ? 4 : 0) + 8 + (v >= 5 ? 8 : 0) + 4;
  return { maxWaitMs, partitions: readPartitionKeys(frame, o, (at) => at + partitionBytes), maxWaitOffset };
}

/** Partitions (`partitionKey`) a Produce writes to, or undefined for a version the front does not read. */
export function readProducePartitions(frame: Buffer, header: RequestHeader): string[] | undefined {
  const v = header.apiVersion;
  if (header.apiKey !== API_PRODUCE || v < 3 || v > 8) return undefined;
  let o = header.bodyOffset;
  const transactionalIdLength = frame.readInt16BE(o);
  o += 2 + Math.max(0, transactionalIdLength) + 2 + 4; // transactional_id, acks, timeout_ms
  // partition, records (int32 length, then the record batches)
  return readPartitionKeys(frame, o, (at) => at + 8 + Math.max(0, frame.readInt32BE(at + 4)));
}

export interface FetchResponseSummary {
  /** Bytes of record batches in the whole response. */
  recordBytes: number;
  /** Any top-level or partition error: such a response goes to the client at once. */
  hasError: boolean;
}

/** Reads a Fetch response of version `v` (4–11). */
export function summarizeFetchResponse(frame: Buffer, v: number): FetchResponseSummary {
  let o = 8; // size, correlation_id
  o += 4; // throttle_time_ms
  let hasError = false;
  if (v >= 7) {
    hasError = frame.readInt16BE(o) !== 0;
    o += 2 + 4; // error_code, session_id
  }
  let recordBytes = 0;
  const topicCount = frame.readInt32BE(o);
  o += 4;
  for (let t = 0; t < topicCount; t++) {
    o = readString(frame, o)[1];
    const partitions = frame.readInt32BE(o);
    o += 4;
    for (let p = 0; p < partitions; p++) {
      if (frame.readInt16BE(o + 4) !== 0) hasError = true;
      o += 4 + 2 + 8 + 8 + (v >= 5 ? 8 : 0); // partition, error_code, high_watermark, last_stable_offset, [log_start_offset]
      const aborted = frame.readInt32BE(o);
      o += 4 + Math.max(0, aborted) * 16;
      if (v >= 11) o += 4; // preferred_read_replica
      const records = frame.readInt32BE(o);
      o += 4 + Math.max(0, records);
      recordBytes += Math.max(0, records);
    }
  }
  return { recordBytes, hasError };
}

/**
 * The partitions of a `[topic [partition …]]` array at `o`, as `partitionKey`s. Each partition
 * entry starts with its int32 index; `after(at)` is the offset just past the entry at `at`.
 */
function readPartitionKeys(frame: Buffer, o: number, after: (at: number) => number): string[] {
  const keys: string[] = [];
  const topicCount = frame.readInt32BE(o);
  o += 4;
  for (let t = 0; t < topicCount; t++) {
    const [name, next] = readString(frame, o);
    const partitions = frame.readInt32BE(next);
    o = next + 4;
    for (let p = 0; p < partitions; p++) {
      keys.push(partitionKey(name, frame.readInt32BE(o)));
      o = after(o);
    }
  }
  return keys;
}

function readString(frame: Buffer, o: number): [string, number] {
  const length = frame.readInt16BE(o);
  if (length < 0) return ['', o + 2];
  return [frame.toString('utf8', o + 2, o + 2 + length), o + 2 + length];
}

/**
 * Splits a byte stream into whole frames (4-byte big-endian size, then the frame). Chunks
 * are joined once per frame, not once per chunk.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** The whole frames completed by `chunk`, each with its size prefix. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const head = this.chunks[0].length >= 4 ? this.chunks[0] : this.join();
        const size = head.readInt32BE(0);
        if (size < 0 || size > this.maxFrameBytes) throw new Error(`kafka frame of ${size} bytes is out of range`);
        this.need = 4 + size;
      }
      if (this.buffered < this.need) break;
      const all = this.join();
      frames.push(all.length === this.need ? all : all.subarray(0, this.need));
      const rest = all.subarray(this.need);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      this.need = -1;
    }
    return frames;
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0];
  }
}
