import { createMllpServer, MllpServer } from '@clinmesh/hl7v2';
import { Logger } from '@clinmesh/observability';
import { AcceptHl7MessageHandler } from '../../application/accept-hl7-message.handler';
import { IngestConfig } from '../../config/ingest.config';
import { IngestMetrics } from '../metrics/ingest.metrics';

/**
 * The MLLP listener (default port 2575): each frame goes through the same
 * intake as HTTP and is answered per MSH-15/16 (original mode: its ACK);
 * oversized frames are kept as rejections and get an AR NAK in their place;
 * TLS / mutual TLS by configuration. A frame whose intake
 * fails for an infrastructure reason (database down) is not answered — the
 * sender re-sends — because a wrong ACK could lose the message.
 *
 * Limits: a read deadline per frame (from its start block), a cap on
 * connections in total and per source address. Refusals are counted
 * (`clinmesh_mllp_refusals_total{reason}`) and logged with the source
 * address and sizes only — never message content.
 */
export function createIngestMllpListener(config: IngestConfig, handler: AcceptHl7MessageHandler, metrics: IngestMetrics, logger: Logger): MllpServer {
  const { mllp } = config;
  return createMllpServer({
    port: mllp.port,
    host: mllp.host,
    maxFrameBytes: config.maxMessageBytes,
    idleTimeoutMs: mllp.idleTimeoutMs,
    frameTimeoutMs: mllp.frameTimeoutMs,
    maxConnections: mllp.maxConnections,
    maxConnectionsPerSource: mllp.maxConnectionsPerSource,
    tls: mllp.tls ? {
      key: mllp.tls.key,
      cert: mllp.tls.cert,
      ca: mllp.tls.ca,
      requestCert: mllp.tls.requireClientCert,
      rejectUnauthorized: mllp.tls.requireClientCert,
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
      metrics.mllp(e);
      switch (e.type) {
        case 'error':
          logger.warn({ mllp: { type: e.type, stage: e.stage, connectionId: e.connectionId, error: (e.error as NodeJS.ErrnoException).code ?? e.error.name } }, 'mllp connection error');
          break;
        case 'frame-timeout':
          logger.warn({ mllp: { type: e.type, connectionId: e.connectionId, source: e.remoteAddress, frameTimeoutMs: e.frameTimeoutMs, partialBytes: e.partialBytes } },
            'mllp frame not completed within its read deadline: partial frame dropped, connection closed');
          break;
        case 'connection-rejected':
          if (e.reason !== 'closing') logger.warn({ mllp: { type: e.type, reason: e.reason, source: e.remoteAddress, limit: e.limit } }, 'mllp connection refused');
          break;
        default:
      }
    },
  });
}
