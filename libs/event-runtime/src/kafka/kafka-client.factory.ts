import { Kafka, KafkaConfig, SASLOptions, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import { guardKafkajsIdleLoop } from './kafkajs-idle-loop';

export interface KafkaConnectionConfig {
  brokers: string[];
  clientId: string;
  ssl?: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
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
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl as SASLOptions | undefined,
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
