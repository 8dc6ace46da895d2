export { createLogger, Logger, LogContext } from './logger';
export { RuntimeMetrics } from './runtime-metrics';
