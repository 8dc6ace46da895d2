import { EventEmitter } from 'node:events';

/** MLLP start block (VT). */
export const MLLP_START_BLOCK = 0x0b;
/** MLLP end block (FS), followed by CR. */
export const MLLP_END_BLOCK = 0x1c;
const CR = 0x0d;
const HEAD_BYTES = 4096;

/** Default maximum frame size: 10 MiB, enough for embedded PDFs in OBX-5. */
export const DEFAULT_MLLP_MAX_FRAME_BYTES = 10 * 1024 * 1024;

/** Details of a frame that exceeded `maxFrameBytes`. */
export interface MllpOversizedInfo {
  /** Bytes of the frame seen when the limit was crossed (the frame is at least this big). */
  readonly bytesSeen: number;
  readonly maxFrameBytes: number;
  /** The first bytes of the frame (up to 4 KiB), enough to salvage MSH for a NAK (`peekHl7Header`). */
  readonly head: Buffer;
}

/** Events of {@link MllpFrameDecoder}. */
export interface MllpFrameDecoderEvents {
  /** A start block opened a frame (also when it abandons an unfinished one). */
  start: [];
  frame: [frame: Buffer];
  garbage: [bytes: number];
  oversized: [info: MllpOversizedInfo];
}

/**
 * Wraps a payload in an MLLP frame: `0x0B payload 0x1C 0x0D`. Strings are
 * encoded as UTF-8; send other charsets as a Buffer.
 */
export function encodeMllpFrame(payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = MLLP_START_BLOCK;
  body.copy(out, 1);
  out[body.length + 1] = MLLP_END_BLOCK;
  out[body.length + 2] = CR;
  return out;
}

/**
 * Streaming MLLP decoder. Feed it socket chunks with {@link push}; it emits
 * `frame` for each complete payload (without framing bytes), whatever the
 * chunking: several frames per chunk, frames split across chunks, the end
 * block split between chunks.
 *
 * Robustness rules (why: a confused peer must not wedge the connection):
 * - Bytes outside a frame are discarded and reported with `garbage`
 *   (`garbageBytes` counts them).
 * - A start block inside an unfinished frame abandons the partial frame (it
 *   counts as garbage) and starts a new one: the peer evidently restarted.
 * - A `0x1C` not followed by `0x0D` is data.
 * - A frame growing past `maxFrameBytes` emits `oversized` once, with the
 *   frame's first bytes, and everything up to the next start block is
 *   dropped, so memory stays bounded.
 */
export class MllpFrameDecoder extends EventEmitter<MllpFrameDecoderEvents> {
  readonly maxFrameBytes: number;
  /** Bytes discarded outside frames (including abandoned partial frames). */
  garbageBytes = 0;
  /** Frames emitted. */
  frames = 0;
  /** Frames dropped for size. */
  oversizedFrames = 0;
  private mode: 'outside' | 'inside' | 'discarding' = 'outside';
  private parts: Buffer[] = [];
  private size = 0;
  private pendingEnd = false;

  constructor(opts: { maxFrameBytes?: number } = {}) {
    super();
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MLLP_MAX_FRAME_BYTES;
  }

  /** Bytes held for an unfinished frame. */
  get bufferedBytes(): number {
    return this.size;
  }

  /** True while a frame has started but not ended (used to tell idle from mid-frame). */
  get inFrame(): boolean {
    return this.mode === 'inside';
  }

  /** Feeds one chunk. */
  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.mode !== 'inside') {
        const sb = chunk.indexOf(MLLP_START_BLOCK, i);
        const stop = sb < 0 ? n : sb;
        if (stop > i && this.mode === 'outside') this.discard(stop - i);
        if (sb < 0) return;
        this.begin();
        i = sb + 1;
        continue;
      }
      if (this.pendingEnd) {
        this.pendingEnd = false;
        if (chunk[i] === CR) {
          this.finish();
          i++;
          continue;
        }
        if (!this.append(Buffer.of(MLLP_END_BLOCK))) continue;
      }
      let end = chunk.indexOf(MLLP_END_BLOCK, i);
      while (end >= 0 && end + 1 < n && chunk[end + 1] !== CR) end = chunk.indexOf(MLLP_END_BLOCK, end + 1);
      const limit = end < 0 ? n : end;
      const restart = chunk.subarray(i, limit).indexOf(MLLP_START_BLOCK);
      if (restart >= 0) {
        this.discard(this.size + restart);
        this.begin();
        i = i + restart + 1;
        continue;
      }
      if (!this.append(chunk.subarray(i, limit))) {
        // Oversized: the rest of this chunk belongs to the dropped frame
        // until a start block shows up.
        i = limit;
        if (end >= 0) i = end + (end + 1 < n ? 2 : 1);
        continue;
      }
      if (end < 0) return;
      if (end + 1 >= n) {
        this.pendingEnd = true;
        return;
      }
      this.finish();
      i = end + 2;
    }
  }

  /** Drops any partial frame (e.g. when the connection closes). Returns the bytes dropped. */
  reset(): number {
    const dropped = this.mode === 'inside' ? this.size : 0;
    this.mode = 'outside';
    this.parts = [];
    this.size = 0;
    this.pendingEnd = false;
    return dropped;
  }

  private begin(): void {
    this.mode = 'inside';
    this.parts = [];
    this.size = 0;
    this.pendingEnd = false;
    this.emit('start');
  }

  private discard(bytes: number): void {
    if (bytes <= 0) return;
    this.garbageBytes += bytes;
    this.emit('garbage', bytes);
  }

  /** Appends data to the frame; false (and switches to discarding) when it would exceed the limit. */
  private append(data: Buffer): boolean {
    if (data.length === 0) return true;
    if (this.size + data.length > this.maxFrameBytes) {
      const head = Buffer.concat([...this.parts, data.subarray(0, HEAD_BYTES)]).subarray(0, HEAD_BYTES);
      const bytesSeen = this.size + data.length;
      this.oversizedFrames++;
      this.mode = 'discarding';
      this.parts = [];
      this.size = 0;
      this.emit('oversized', { bytesSeen, maxFrameBytes: this.maxFrameBytes, head: Buffer.from(head) });
      return false;
    }
    // Copy: socket chunks are reused by nobody, but a view would pin the
    // whole chunk in memory for as long as the frame lives.
    this.parts.push(Buffer.from(data));
    this.size += data.length;
    return true;
  }

  private finish(): void {
    const frame = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    this.mode = 'outside';
    this.parts = [];
    this.size = 0;
    this.frames++;
    this.emit('frame', frame);
  }
}
