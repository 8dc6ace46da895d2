import { createServer, Server } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ReceivedDelivery {
  deliveryId: string;
  eventId: string;
  correlationId: string;
  signatureValid: boolean;
  body: Record<string, unknown>;
  receivedAt: number;
}

/**
 * A subscriber's webhook endpoint for tests: records every delivery,
 * verifies the HMAC signature independently of the notifier's code, and can
 * be told to fail (e.g. answer 503) to exercise retries.
 */
export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  failWith: number | null = null;
  private server: Server | null = null;
  url = '';

  constructor(private readonly secret: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.failWith) {
          res.writeHead(this.failWith).end();
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const header = String(req.headers['clinmesh-signature'] ?? '');
        const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2)));
        const expected = createHmac('sha256', this.secret).update(`${parts.t}.${raw}`).digest();
        const given = Buffer.from(String(parts.v1 ?? ''), 'hex');
        this.deliveries.push({
          deliveryId: String(req.headers['idempotency-key']),
          eventId: String(req.headers['clinmesh-event-id']),
          correlationId: String(req.headers['clinmesh-correlation-id']),
          signatureValid: given.length === expected.length && timingSafeEqual(given, expected),
          body: JSON.parse(raw),
          receivedAt: Date.now(),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
    return this.url;
  }

  byCorrelation(correlationId: string): ReceivedDelivery[] {
    return this.deliveries.filter((d) => d.correlationId === correlationId);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
