export { createLogger, Logger, LogContext } from './logger';
export { RuntimeMetrics } from './runtime-metrics';
export { requestIds, requestIdOf, plainHeader, routeOf, REQUEST_ID_HEADER, AccessLogLevel, ACCESS_LOG_LEVELS } from './request-id';
