import koffi from 'koffi';

/**
 * Thin FFI binding to librdkafka's mock cluster (Debian `librdkafka1`).
 * Only the handful of calls the embedded platform needs are bound; everything
 * else about the cluster (protocol, groups, offsets) is librdkafka's own code.
 */
export interface MockClusterBinding {
  newCluster(brokerCount: number): { handle: unknown; bootstraps: string };
  createTopic(cluster: unknown, topic: string, partitions: number, replicationFactor: number): number;
  pushRequestErrors(cluster: unknown, apiKey: number, errors: number[]): void;
  setPartitionLeader(cluster: unknown, topic: string, partition: number, brokerId: number): number;
  errorName(code: number): string;
  version(): string;
  destroy(cluster: unknown): void;
}

const RD_KAFKA_PRODUCER = 0;

export function loadMockClusterBinding(libraryPath = 'librdkafka.so.1'): MockClusterBinding {
  const lib = koffi.load(libraryPath);
  const rd_kafka_version_str = lib.func('const char *rd_kafka_version_str()');
  const rd_kafka_conf_new = lib.func('void *rd_kafka_conf_new()');
  const rd_kafka_conf_set = lib.func('int rd_kafka_conf_set(void *conf, const char *name, const char *value, _Out_ char *errstr, size_t errstr_size)');
  const rd_kafka_new = lib.func('void *rd_kafka_new(int type, void *conf, _Out_ char *errstr, size_t errstr_size)');
  const rd_kafka_mock_cluster_new = lib.func('void *rd_kafka_mock_cluster_new(void *rk, int broker_cnt)');
  const rd_kafka_mock_cluster_bootstraps = lib.func('const char *rd_kafka_mock_cluster_bootstraps(void *mcluster)');
  const rd_kafka_mock_cluster_destroy = lib.func('void rd_kafka_mock_cluster_destroy(void *mcluster)');
  const rd_kafka_mock_topic_create = lib.func('int rd_kafka_mock_topic_create(void *mcluster, const char *topic, int partition_cnt, int replication_factor)');
  const rd_kafka_mock_push_request_errors_array = lib.func('void rd_kafka_mock_push_request_errors_array(void *mcluster, int16_t ApiKey, size_t cnt, const int *errors)');
  const rd_kafka_mock_partition_set_leader = lib.func('int rd_kafka_mock_partition_set_leader(void *mcluster, const char *topic, int32_t partition, int32_t broker_id)');
  const rd_kafka_err2name = lib.func('const char *rd_kafka_err2name(int err)');

  return {
    version: () => rd_kafka_version_str() as string,
    errorName: (code) => rd_kafka_err2name(code) as string,
    newCluster(brokerCount) {
      const errstr = Buffer.alloc(512);
      const conf = rd_kafka_conf_new();
      // The handle only anchors the mock cluster's thread; it never connects anywhere.
      rd_kafka_conf_set(conf, 'log_level', '3', errstr, errstr.length);
      const rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr.length);
      if (!rk) throw new Error(`rd_kafka_new failed: ${errstr.toString('utf8').replace(/\0.*$/s, '')}`);
      const handle = rd_kafka_mock_cluster_new(rk, brokerCount);
      if (!handle) throw new Error('rd_kafka_mock_cluster_new returned NULL');
      return { handle, bootstraps: rd_kafka_mock_cluster_bootstraps(handle) as string };
    },
    createTopic: (cluster, topic, partitions, rf) => rd_kafka_mock_topic_create(cluster, topic, partitions, rf) as number,
    pushRequestErrors: (cluster, apiKey, errors) =>
      rd_kafka_mock_push_request_errors_array(cluster, apiKey, errors.length, Int32Array.from(errors)),
    setPartitionLeader: (cluster, topic, partition, brokerId) =>
      rd_kafka_mock_partition_set_leader(cluster, topic, partition, brokerId) as number,
    destroy: (cluster) => rd_kafka_mock_cluster_destroy(cluster),
  };
}
