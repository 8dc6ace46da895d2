export { startEmbeddedPostgres, findPostgresBin, RunningPostgres, EmbeddedPostgresOptions } from './postgres/embedded-postgres';
export { startMockCluster, serviceLongPollFront, RunningMockCluster, repoRoot } from './kafka/mock-cluster.launcher';
export { loadMockClusterBinding, MockClusterBinding } from './kafka/librdkafka-mock.ffi';
export { startEmbeddedPlatform, startServices, loadOrCreateSecrets, databaseName, RunningPlatform, RunningServices, PlatformOptions, PlatformSecrets } from './platform/embedded-platform';
export { ManagedProcess, ManagedProcessOptions } from './platform/managed-process';
export { freePort } from './platform/free-port';
export { SERVICE_NAMES, CONSUMER_SERVICE_NAMES, LAUNCHED_SERVICE_NAMES, SERVICE_PORTS, ServiceName, DEFAULT_MLLP_PORT, DEFAULT_REGISTRY_PORT, envPrefixOf } from './platform/service-catalog';
export { closeIntakeAndDrain, DrainResult, ServiceDrainStatus } from './platform/graceful-stop';
export { startLongPollFront, LongPollFront, LongPollFrontStats } from './kafka/long-poll-front';
