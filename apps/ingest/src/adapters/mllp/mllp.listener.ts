import { readFileSync } from 'node:fs';
import { Counter } from 'prom-client';
import { createMllpServer, MllpServer } from '@clinmesh/hl7v2';
import { Logger, RuntimeMetrics } from '@clinmesh/observability';
import { ServiceConfig } from '@clinmesh/service-kit';
import { AcceptHl7MessageHandler } from '../../application/accept-hl7-message.handler';

/**
 * The MLLP listener (default port 2575): each frame goes through the same
 * intake as HTTP and is answered per MSH-15/16 (original mode: its ACK);
 * oversized frames are kept as rejections and get an AR NAK in their place;
 * TLS / mutual TLS by configuration. A frame whose intake
 * fails for an infrastructure reason (database down) is not answered — the
 * sender re-sends — because a wrong ACK could lose the message.
 */
export function createIngestMllpListener(config: ServiceConfig, handler: AcceptHl7MessageHandler, metrics: RuntimeMetrics, logger: Logger, maxFrameBytes: number): MllpServer {
  const events = new Counter({ name: 'clinmesh_mllp_events_total', help: 'MLLP connection events (connection, disconnect, garbage, oversized, idle-timeout, error)', labelNames: ['type'], registers: [metrics.registry] });
  const tlsKey = config.env('MLLP_TLS_KEY_FILE');
  return createMllpServer({
    port: Number(config.env('MLLP_PORT') ?? 2575),
    host: config.env('MLLP_HOST') ?? config.http.host,
    maxFrameBytes,
    idleTimeoutMs: Number(config.env('MLLP_IDLE_TIMEOUT_MS') ?? 300_000),
    maxConnections: Number(config.env('MLLP_MAX_CONNECTIONS') ?? 500),
    tls: tlsKey ? {
      key: readFileSync(tlsKey),
      cert: readFileSync(config.env('MLLP_TLS_CERT_FILE') ?? ''),
      ca: config.env('MLLP_TLS_CA_FILE') ? readFileSync(config.env('MLLP_TLS_CA_FILE')!) : undefined,
      requestCert: config.env('MLLP_TLS_REQUIRE_CLIENT_CERT') === 'true',
      rejectUnauthorized: config.env('MLLP_TLS_REQUIRE_CLIENT_CERT') === 'true',
    } : undefined,
    onMessage: async (frame) => {
      const result = await handler.accept({ bytes: frame, channel: 'MLLP', receivedAt: Date.now() });
      // Enhanced mode may ask for no answer at all (e.g. MSH-15 NE, MSH-16 NE on success).
      return result.reply === undefined ? undefined : Buffer.from(result.reply, 'utf8');
    },
    onOversized: async (info) => {
      const result = await handler.rejectOversizedFrame(info.head, info.bytesSeen, info.maxFrameBytes, Date.now());
      return Buffer.from(result.ack ?? '', 'utf8');
    },
    onEvent: (e) => {
      events.inc({ type: e.type });
      if (e.type === 'error') logger.warn({ mllp: { type: e.type, connectionId: (e as { connectionId?: string }).connectionId } }, 'mllp connection error');
    },
  });
}
