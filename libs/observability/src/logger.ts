import pino from 'pino';
import { currentLogContext } from './log-context';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. The correlation id of the event or request being
 * handled is mixed into every line from async context. Never log payloads,
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
    mixin: () => ({ ...currentLogContext() }),
    redact: {
      paths: ['raw', 'value', 'payload', 'body', 'patient', 'name', 'birthDate', 'identifiers', '*.raw', '*.payload', '*.body', 'headers.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
