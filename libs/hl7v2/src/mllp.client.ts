import * as net from 'node:net';
import * as tls from 'node:tls';
import { encodeMllpFrame, MllpFrameDecoder } from './mllp-frame.decoder';
import { ClinmeshError } from '@clinmesh/errors';

/** Transport failures of {@link MllpClient} (retriable: the message may be re-sent). */
export class MllpClientError extends ClinmeshError {
  constructor(code: 'MLLP.CLIENT.NOT_CONNECTED' | 'MLLP.CLIENT.CLOSED' | 'MLLP.CLIENT.TIMEOUT' | 'MLLP.CLIENT.SOCKET', message: string, cause?: unknown) {
    super(code, message, { retriable: true, status: 503, cause });
  }
}

/** Client TLS options (for self-signed test certs pass `ca`, or `rejectUnauthorized: false`). */
export type MllpClientTlsOptions = tls.ConnectionOptions;

/**
 * A small MLLP client for tests, benchmarks and tools. `send` may be called
 * again before earlier ACKs arrive (pipelining): MLLP has no correlation on
 * the wire, so responses are matched to requests in order, which is exactly
 * what an in-order server guarantees.
 */
export class MllpClient {
  private socket?: net.Socket;
  private readonly pending: Array<{ resolve: (b: Buffer) => void; reject: (e: Error) => void; timer?: NodeJS.Timeout }> = [];
  private readonly decoder: MllpFrameDecoder;

  constructor(private readonly opts: { maxFrameBytes?: number; responseTimeoutMs?: number } = {}) {
    this.decoder = new MllpFrameDecoder({ maxFrameBytes: opts.maxFrameBytes });
    this.decoder.on('frame', (frame) => {
      const p = this.pending.shift();
      if (p) {
        if (p.timer) clearTimeout(p.timer);
        p.resolve(frame);
      }
    });
  }

  /** Opens the connection (TLS when `tlsOptions` is given). */
  connect(host: string, port: number, tlsOptions?: MllpClientTlsOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new MllpClientError('MLLP.CLIENT.SOCKET', `Cannot connect to ${host}:${port}: ${e.message}`, e));
      const socket = tlsOptions
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...tlsOptions }, () => done())
        : net.connect({ host, port }, () => done());
      const done = (): void => {
        socket.off('error', onError);
        socket.setNoDelay(true);
        socket.on('error', (e) => this.failAll(new MllpClientError('MLLP.CLIENT.SOCKET', e.message, e)));
        resolve();
      };
      socket.once('error', onError);
      socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
      socket.on('end', () => socket.end());
      socket.on('close', () => this.failAll(new MllpClientError('MLLP.CLIENT.CLOSED', 'Connection closed before the ACK arrived')));
      this.socket = socket;
    });
  }

  /** Sends one message (framed here) and resolves with the ACK payload (unframed). */
  send(message: string | Buffer): Promise<Buffer> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new MllpClientError('MLLP.CLIENT.NOT_CONNECTED', 'Not connected'));
    return new Promise((resolve, reject) => {
      const entry: (typeof this.pending)[number] = { resolve, reject };
      if (this.opts.responseTimeoutMs) {
        entry.timer = setTimeout(() => {
          // Responses are positional; after a timeout the stream can no
          // longer be trusted to line up, so the connection is dropped.
          this.failAll(new MllpClientError('MLLP.CLIENT.TIMEOUT', `No ACK within ${this.opts.responseTimeoutMs} ms`));
          socket.destroy();
        }, this.opts.responseTimeoutMs);
      }
      this.pending.push(entry);
      socket.write(encodeMllpFrame(message));
    });
  }

  /** Writes raw bytes (tests: garbage, partial frames). */
  writeRaw(bytes: Buffer): void {
    this.socket?.write(bytes);
  }

  /** Messages sent and not yet answered. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Closes the connection; unanswered sends are rejected. */
  close(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.splice(0)) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(e);
    }
  }
}
