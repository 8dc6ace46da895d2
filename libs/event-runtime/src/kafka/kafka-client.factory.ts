import { connect } from 'node:net';
import { ISocketFactory, Kafka, KafkaConfig, SASLOptions, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import { useNativeCrc32c } from './kafkajs-crc32c';
import { patchKafkajsEncoder } from './kafkajs-encoder';
import { guardKafkajsIdleLoop } from './kafkajs-idle-loop';

export interface KafkaConnectionConfig {
  brokers: string[];
  clientId: string;
  ssl?: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /**
   * The embedded cluster's long-poll front (`127.0.0.1:<port>`, embedded-platform's
   * long-poll-front.ts): every broker connection goes through it, so an idle fetch waits for
   * records as against a real broker instead of polling the mock cluster. Unset for a real cluster.
   */
  longPollFront?: string;
}

/**
 * One place that turns configuration into a kafkajs client, so TLS/SASL for a
 * real cluster is configuration only. kafkajs log lines are routed to our
 * structured logger (they never contain payloads).
 */
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

export function createKafkaClient(config: KafkaConnectionConfig, log: (level: string, msg: string, extra: Record<string, unknown>) => void): Kafka {
  // Every idle connection would otherwise spin a 1 ms timer (see kafkajs-idle-loop.ts).
  guardKafkajsIdleLoop();
  // Requests are encoded with far fewer allocations and a native CRC-32C, byte for byte the same
  // (kafkajs-encoder.ts, kafkajs-crc32c.ts).
  patchKafkajsEncoder();
  useNativeCrc32c();
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl as SASLOptions | undefined,
    socketFactory: config.longPollFront ? frontSocketFactory(config.longPollFront) : undefined,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      const level = entry.level <= KafkaLogLevel.ERROR ? 'error' : entry.level === KafkaLogLevel.WARN ? 'warn' : 'debug';
      log(level, `kafkajs: ${message}`, { namespace: entry.namespace, ...extra });
    },
  };
  return new Kafka(kafkaConfig);
}

/**
 * Connects to the long-poll front instead of the broker, and names the broker in the front's
 * one-line preamble (written first: Node sends queued writes in order once connected).
 */
export function frontSocketFactory(front: string): ISocketFactory {
  const at = front.lastIndexOf(':');
  const host = front.slice(0, at);
  const port = Number(front.slice(at + 1));
  return ({ host: brokerHost, port: brokerPort, ssl, onConnect }) => {
    if (ssl) throw new Error('the long-poll front is for the embedded cluster only; it does not carry TLS');
    const socket = connect({ host, port }, onConnect);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60000);
    // The front's FRONT_PREAMBLE (embedded-platform long-poll-front.ts; the runtime does not depend on that lib).
    socket.write(`clinmesh-kafka-front ${brokerHost}:${brokerPort}\n`);
    return socket;
  };
}
