import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-event / per-request context that every log line carries. */
export interface LogContext {
  correlationId?: string;
  eventId?: string;
  requestId?: string;
  tier?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, fn);
}

export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
