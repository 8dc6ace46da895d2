import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. A line about one event or request names it with
 * `LogContext` fields, given explicitly: event handlers log through
 * `ctx.logger` (a child carrying the event's correlation id, event id and
 * tier), HTTP error lines carry the request's ids. Not from async context
 * (AsyncLocalStorage): on Node 20 that turns on promise hooks for every
 * promise in the process, which cost each service ~8 % of its idle CPU
 * (kafkajs fetch cycles) and ~4 % of the identity path's. Never log payloads,
 * names, identifiers or raw messages: log ids, codes and counts (no PHI).
 * Known PHI-bearing keys are redacted as a second line of defence.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['raw', 'value', 'payload', 'body', 'patient', 'name', 'birthDate', 'identifiers', '*.raw', '*.payload', '*.body', 'headers.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** Fields that tie a log line to the event or request it is about (ids only, never PHI). */
export interface LogContext {
  correlationId?: string;
  eventId?: string;
  requestId?: string;
  tier?: string;
}
