export { createLogger, Logger } from './logger';
export { withLogContext, currentLogContext, LogContext } from './log-context';
export { RuntimeMetrics } from './runtime-metrics';
