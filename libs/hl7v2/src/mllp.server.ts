import * as net from 'node:net';
import * as tls from 'node:tls';
import { encodeMllpFrame, MllpFrameDecoder, type MllpOversizedInfo } from './mllp-frame.decoder';

/** TLS settings of an MLLP listener (PEM strings or Buffers). */
export interface MllpTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  ca?: string | Buffer | Array<string | Buffer>;
  /** Ask clients for a certificate (mutual TLS). */
  requestCert?: boolean;
  /** Refuse clients whose certificate does not verify against `ca` (default true when `requestCert`). */
  rejectUnauthorized?: boolean;
}

/** Who sent a frame. */
export interface MllpConnectionContext {
  readonly connectionId: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly tls: boolean;
  /** The client certificate when TLS with `requestCert` is used and the client sent one. */
  readonly peerCertificate?: tls.PeerCertificate;
}

/** Observability events of the server (never carry message content: no PHI in logs). */
export type MllpServerEvent =
  | { type: 'connection'; connectionId: string; remoteAddress: string; tls: boolean }
  | { type: 'connection-rejected'; remoteAddress: string; reason: 'max-connections' | 'max-connections-per-source' | 'closing'; limit?: number }
  /** A complete frame was read (before it is handled); `bytes` is its payload size. */
  | { type: 'frame'; connectionId: string; bytes: number }
  /**
   * A frame did not end within `frameTimeoutMs` of its start block: the
   * partial frame is dropped, frames already received are still answered,
   * then the connection is closed.
   */
  | { type: 'frame-timeout'; connectionId: string; remoteAddress: string; frameTimeoutMs: number; partialBytes: number }
  | { type: 'disconnect'; connectionId: string; messages: number; droppedPartialBytes: number }
  | { type: 'garbage'; connectionId: string; bytes: number }
  | { type: 'oversized'; connectionId: string; bytesSeen: number; maxFrameBytes: number; answered: boolean }
  | { type: 'idle-timeout'; connectionId: string; idleTimeoutMs: number }
  | { type: 'error'; connectionId?: string; stage: 'socket' | 'handler' | 'tls' | 'server'; error: Error };

/** Options of {@link createMllpServer}. */
export interface MllpServerOptions {
  port: number;
  host?: string;
  /** Frames larger than this are dropped (default 10 MiB). */
  maxFrameBytes?: number;
  /** Close connections with no traffic and nothing in flight for this long (default 5 min; 0 disables). */
  idleTimeoutMs?: number;
  /** Connections beyond this are refused immediately (default 1000). */
  maxConnections?: number;
  /**
   * Open connections allowed per source address (IPv4-mapped IPv6 counted as
   * the IPv4 address); more are refused immediately (default 100; 0 = no
   * per-source cap). Keeps one slow or misbehaving peer from taking the
   * whole `maxConnections`.
   */
  maxConnectionsPerSource?: number;
  /**
   * Read deadline of every frame, counted from its start block (default
   * 60 s; 0 disables): a frame not ended by then is dropped and the
   * connection closed (after answering the frames already received), so a
   * partial frame is never held for the whole idle timeout.
   */
  frameTimeoutMs?: number;
  tls?: MllpTlsOptions;
  /**
   * Handles one frame's payload and resolves with the ACK payload (unframed;
   * the server frames it), or `undefined` to answer nothing (enhanced
   * acknowledgement mode when the sender asked for no ACK). Frames of one connection are handled strictly one
   * after another and ACKs are written in arrival order. If it rejects, the
   * server emits an `error` event and closes the connection without
   * answering: an unanswered message is re-sent by the peer, whereas a wrong
   * ACK could lose it. Handlers should therefore answer AE/AR themselves for
   * bad input and reject only when they could not decide (e.g. storage down).
   */
  onMessage: (frame: Buffer, ctx: MllpConnectionContext) => Promise<Buffer | undefined>;
  /**
   * Answers a frame dropped for size, in its place in the connection's order.
   * `info.head` holds the first bytes, enough for `peekHl7Header` +
   * `buildAck(…, { code: 'AR', errors: [{ code: 102, … }] })`. Resolve with
   * the NAK payload, or `undefined` to send nothing. Without this hook the
   * server sends nothing and only emits the `oversized` event (the peer then
   * times out and retries, which for an oversized message only repeats the
   * problem — so ingest services should set this hook).
   */
  onOversized?: (info: MllpOversizedInfo, ctx: MllpConnectionContext) => Promise<Buffer | undefined> | Buffer | undefined;
  onEvent?: (event: MllpServerEvent) => void;
}

/** A running (or ready) MLLP listener. */
export interface MllpServer {
  /** Starts listening; resolves with the bound port (useful with `port: 0`). */
  listen(): Promise<{ port: number }>;
  /**
   * Graceful stop: refuses new connections, stops reading, lets every frame
   * already received be handled and ACKed, then closes the connections.
   * After `forceAfterMs` (default 30 s) remaining connections are destroyed.
   * Idempotent: later calls return the first call's promise.
   */
  close(opts?: { forceAfterMs?: number }): Promise<void>;
  /** Open connections. */
  connections(): number;
  /** Open connections per source address. */
  connectionsBySource(): ReadonlyMap<string, number>;
}

/** Half-closes, then destroys if the peer does not close its side promptly. */
function endThenDestroy(socket: net.Socket, graceMs = 2000): void {
  socket.end();
  setTimeout(() => socket.destroy(), graceMs).unref();
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one source. */
function sourceOf(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Pending frames per connection before the server stops reading from it (backpressure). */
const MAX_QUEUED_FRAMES = 64;

/**
 * Creates an MLLP (HL7 v2 over TCP, optionally TLS) server. See
 * {@link MllpServerOptions.onMessage} for ordering and failure semantics.
 */
export function createMllpServer(opts: MllpServerOptions): MllpServer {
  const maxConnections = opts.maxConnections ?? 1000;
  const maxPerSource = opts.maxConnectionsPerSource ?? 100;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 5 * 60_000;
  const frameTimeoutMs = opts.frameTimeoutMs ?? 60_000;
  const emit = (e: MllpServerEvent): void => {
    try {
      opts.onEvent?.(e);
    } catch {
      // An observer's bug must not break the transport.
    }
  };
  const live = new Map<string, { socket: net.Socket; drained: () => Promise<void>; stopTimers: () => void }>();
  const perSource = new Map<string, number>();
  let nextId = 1;
  let closing: Promise<void> | null = null;

  const onSocket = (socket: net.Socket, isTls: boolean): void => {
    const remoteAddress = sourceOf(socket.remoteAddress);
    const fromSource = perSource.get(remoteAddress) ?? 0;
    if (closing || live.size >= maxConnections || (maxPerSource > 0 && fromSource >= maxPerSource)) {
      const reason = closing ? 'closing' : live.size >= maxConnections ? 'max-connections' : 'max-connections-per-source';
      emit({ type: 'connection-rejected', remoteAddress, reason, ...(reason === 'closing' ? {} : { limit: reason === 'max-connections' ? maxConnections : maxPerSource }) });
      socket.destroy();
      return;
    }
    perSource.set(remoteAddress, fromSource + 1);
    const connectionId = String(nextId++);
    const peerCertificate = isTls && opts.tls?.requestCert ? (socket as tls.TLSSocket).getPeerCertificate() : undefined;
    const ctx: MllpConnectionContext = Object.freeze({
      connectionId,
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      tls: isTls,
      ...(peerCertificate && Object.keys(peerCertificate).length > 0 ? { peerCertificate } : {}),
    });
    const decoder = new MllpFrameDecoder({ maxFrameBytes: opts.maxFrameBytes });
    let chain: Promise<void> = Promise.resolve();
    let queued = 0;
    let handled = 0;
    let paused = false;
    let dead = false;
    /** Reading stopped for good (frame deadline): backpressure must not resume it. */
    let readingStopped = false;
    let frameTimer: NodeJS.Timeout | undefined;
    const stopFrameTimer = (): void => {
      if (frameTimer) clearTimeout(frameTimer);
      frameTimer = undefined;
    };

    const write = (payload: Buffer | undefined): void => {
      if (payload && !dead && !socket.destroyed) socket.write(encodeMllpFrame(payload));
    };
    // Every frame (and every oversized NAK) goes through one promise chain:
    // that is what guarantees in-order handling and in-order ACKs.
    const enqueue = (work: () => Promise<Buffer | undefined> | Buffer | undefined): void => {
      queued++;
      if (queued >= MAX_QUEUED_FRAMES && !paused) {
        paused = true;
        socket.pause();
        // Not reading is our doing, not the peer's: a frame open now gets a fresh deadline on resume.
        stopFrameTimer();
      }
      chain = chain.then(async () => {
        if (dead) return;
        try {
          write(await work());
          handled++;
        } catch (error) {
          emit({ type: 'error', connectionId, stage: 'handler', error: error instanceof Error ? error : new Error(String(error)) });
          dead = true;
          socket.destroy();
        } finally {
          queued--;
          if (paused && queued < MAX_QUEUED_FRAMES / 2 && !closing && !readingStopped) {
            paused = false;
            socket.resume();
            if (decoder.inFrame) startFrameTimer();
          }
        }
      });
    };

    // The deadline runs from a frame's start block to its end (or to its
    // drop for size); a restart inside a frame starts a new deadline, but
    // the abandoned bytes are dropped, so nothing is held longer than one deadline.
    const onFrameDeadline = (): void => {
      frameTimer = undefined;
      if (dead || closing || !decoder.inFrame) return;
      const partialBytes = decoder.reset();
      emit({ type: 'frame-timeout', connectionId, remoteAddress, frameTimeoutMs, partialBytes });
      // Stop reading; answer what was already received, then close.
      readingStopped = true;
      socket.pause();
      void chain.then(() => endThenDestroy(socket));
    };
    function startFrameTimer(): void {
      if (frameTimeoutMs <= 0) return;
      stopFrameTimer();
      frameTimer = setTimeout(onFrameDeadline, frameTimeoutMs);
      frameTimer.unref();
    }
    decoder.on('start', () => {
      // While reading is paused for backpressure the deadline waits for the resume.
      if (!paused) startFrameTimer();
    });
    decoder.on('frame', (frame) => {
      stopFrameTimer();
      emit({ type: 'frame', connectionId, bytes: frame.length });
      enqueue(() => opts.onMessage(frame, ctx));
    });
    decoder.on('garbage', (bytes) => emit({ type: 'garbage', connectionId, bytes }));
    decoder.on('oversized', (info) => {
      stopFrameTimer();
      emit({ type: 'oversized', connectionId, bytesSeen: info.bytesSeen, maxFrameBytes: info.maxFrameBytes, answered: !!opts.onOversized });
      if (opts.onOversized) enqueue(() => opts.onOversized?.(info, ctx));
    });

    live.set(connectionId, { socket, drained: () => chain, stopTimers: stopFrameTimer });
    emit({ type: 'connection', connectionId, remoteAddress, tls: isTls });
    socket.setNoDelay(true);
    if (idleTimeoutMs > 0) {
      socket.setTimeout(idleTimeoutMs, () => {
        // A peer waiting for a slow ACK is not idle.
        if (queued > 0) return;
        emit({ type: 'idle-timeout', connectionId, idleTimeoutMs });
        endThenDestroy(socket);
      });
    }
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', (error) => {
      emit({ type: 'error', connectionId, stage: 'socket', error });
    });
    socket.on('end', () => {
      // Half-close from the peer: finish what it sent, then close our side.
      void chain.then(() => socket.end());
    });
    socket.on('close', () => {
      dead = true;
      stopFrameTimer();
      live.delete(connectionId);
      const left = (perSource.get(remoteAddress) ?? 1) - 1;
      if (left > 0) perSource.set(remoteAddress, left);
      else perSource.delete(remoteAddress);
      emit({ type: 'disconnect', connectionId, messages: handled, droppedPartialBytes: decoder.reset() });
    });
  };

  const server: net.Server = opts.tls
    ? tls.createServer(
        {
          key: opts.tls.key,
          cert: opts.tls.cert,
          ca: opts.tls.ca,
          requestCert: opts.tls.requestCert ?? false,
          rejectUnauthorized: opts.tls.rejectUnauthorized ?? opts.tls.requestCert ?? false,
        },
        (s) => onSocket(s, true),
      )
    : net.createServer((s) => onSocket(s, false));
  if (opts.tls) {
    server.on('tlsClientError', (error: Error) => emit({ type: 'error', stage: 'tls', error }));
  }
  server.on('error', (error) => emit({ type: 'error', stage: 'server', error }));

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          resolve({ port: (server.address() as net.AddressInfo).port });
        });
      }),
    close({ forceAfterMs = 30_000 } = {}) {
      closing ??= closeGracefully(forceAfterMs);
      return closing;
    },
    connections: () => live.size,
    connectionsBySource: () => new Map(perSource),
  };

  async function closeGracefully(forceAfterMs: number): Promise<void> {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    const conns = [...live.values()];
    for (const c of conns) {
      c.socket.pause();
      c.stopTimers();
    }
    const graceful = Promise.all(
      conns.map(async (c) => {
        await c.drained();
        await new Promise<void>((resolve) => {
          if (c.socket.destroyed) return resolve();
          c.socket.once('close', () => resolve());
          endThenDestroy(c.socket);
        });
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const force = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const c of live.values()) c.socket.destroy();
        resolve();
      }, forceAfterMs);
      timer.unref();
    });
    await Promise.race([graceful, force]);
    clearTimeout(timer);
    await stopped;
  }
}
