import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ReceivedDelivery {
  /** The `webhook-id` (stable across retries: the idempotency key). */
  deliveryId: string;
  eventId: string;
  correlationId: string;
  /** Every `v1,` signature the notifier sent checked against this receiver's secret (independently of the notifier's code). */
  signatureValid: boolean;
  /** The payload: `data` of a Standard Webhooks body `{type, timestamp, data}`, or the whole body (FHIR Bundles). */
  body: Record<string, unknown>;
  /** `type` of the Standard Webhooks body, when it has one. */
  type?: string;
  raw: string;
  headers: IncomingHttpHeaders;
  receivedAt: number;
}

/** One request the receiver saw, whatever it answered. */
export interface ReceivedAttempt {
  webhookId: string;
  /** 1 for the first request with this webhook-id, 2 for the second … */
  attempt: number;
  headers: IncomingHttpHeaders;
  raw: string;
  answered: number | 'no answer';
  at: number;
}

/** What to answer: status (+ headers), after a delay; `hang` never answers (a timeout). */
export interface ReceiverResponse {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
  hang?: boolean;
}

export interface WebhookReceiverOptions {
  host?: string;
  port?: number;
  path?: string;
  /** Decides the answer per request (default 200); `failWith` still wins when set. */
  respond?: (attempt: ReceivedAttempt) => ReceiverResponse | undefined;
  /** Serve https with this key and certificate (see `loopbackCertificate`); the URL is then https://. */
  tls?: { key: string; cert: string };
}

/**
 * A subscriber's webhook endpoint for tests: records every request and every
 * accepted delivery, verifies Standard Webhooks signatures
 * (`v1,<base64 HMAC-SHA256("id.timestamp.body")>`, `whsec_` secrets base64,
 * others raw) independently of the notifier's code, and can be scripted to
 * fail, hang, throttle or redirect to exercise retries.
 */
export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  readonly attempts: ReceivedAttempt[] = [];
  /** TCP connections accepted (a listener that must never be contacted asserts 0). */
  connections = 0;
  /** Requests being answered now, and the most seen at once since the last reset. */
  inFlight = 0;
  maxInFlight = 0;
  failWith: number | null = null;
  private server: Server | null = null;
  private readonly hanging = new Set<() => void>();
  url = '';
  port = 0;

  constructor(private secret: string, private readonly options: WebhookReceiverOptions = {}) {}

  /** After a rotation: verify with this secret from now on. */
  useSecret(secret: string): void {
    this.secret = secret;
  }

  async start(): Promise<string> {
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const webhookId = String(req.headers['webhook-id'] ?? req.headers['idempotency-key'] ?? '');
        const attempt: ReceivedAttempt = { webhookId, attempt: this.attempts.filter((a) => a.webhookId === webhookId).length + 1, headers: req.headers, raw, answered: 'no answer', at: Date.now() };
        this.attempts.push(attempt);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        let counted = true;
        const settle = () => {
          if (counted) this.inFlight--;
          counted = false;
        };
        res.on('close', settle);
        const answer: ReceiverResponse = this.failWith ? { status: this.failWith } : this.options.respond?.(attempt) ?? { status: 200 };
        if (answer.hang) {
          const end = () => res.destroy();
          this.hanging.add(end);
          res.on('close', () => this.hanging.delete(end));
          return;
        }
        const reply = () => {
          settle();
          attempt.answered = answer.status;
          if (answer.status >= 200 && answer.status < 300) this.accept(req.headers, raw);
          res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) }).end('{"ok":true}');
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      });
    };
    this.server = this.options.tls ? createTlsServer(this.options.tls, handle) : createServer(handle);
    this.server.on('connection', () => this.connections++);
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, host, resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.url = `${this.options.tls ? 'https' : 'http'}://${host}:${this.port}${this.options.path ?? '/hook'}`;
    return this.url;
  }

  private accept(headers: IncomingHttpHeaders, raw: string): void {
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = {};
    }
    const standard = typeof parsed.type === 'string' && parsed.data && typeof parsed.data === 'object';
    this.deliveries.push({
      deliveryId: String(headers['webhook-id'] ?? ''),
      eventId: String(headers['clinmesh-event-id'] ?? ''),
      correlationId: String(headers['clinmesh-correlation-id'] ?? ''),
      signatureValid: this.verify(headers, raw),
      body: standard ? (parsed.data as Record<string, unknown>) : parsed,
      type: standard ? (parsed.type as string) : undefined,
      raw,
      headers,
      receivedAt: Date.now(),
    });
  }

  /** True when one of the `v1,` signatures is this receiver's secret's. */
  verify(headers: IncomingHttpHeaders, raw: string, secret = this.secret): boolean {
    const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
    const expected = Buffer.from(createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${raw}`).digest('base64'));
    return String(headers['webhook-signature'] ?? '').split(' ').some((s) => {
      const given = Buffer.from(s.startsWith('v1,') ? s.slice(3) : '');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }

  byCorrelation(correlationId: string): ReceivedDelivery[] {
    return this.deliveries.filter((d) => d.correlationId === correlationId);
  }

  /** Accepted deliveries, once per webhook-id (what an idempotent subscriber processes). */
  processed(): Map<string, ReceivedDelivery> {
    const m = new Map<string, ReceivedDelivery>();
    for (const d of this.deliveries) if (!m.has(d.deliveryId)) m.set(d.deliveryId, d);
    return m;
  }

  async stop(): Promise<void> {
    for (const end of this.hanging) end();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}
